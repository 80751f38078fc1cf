"""The registry of report formats: a format registered in one place is a choice of render_report, of the file
extension rule and of ``wattprint report --format``; one from an entry point too, and a broken one is skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import wattprint
from wattprint.core.errors import ConfigError
from wattprint.report import formats
from wattprint.report.render import format_for_path, render_report
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))

PLUGIN = '''
from wattprint.report.formats import ReportFormat

FORMAT = ReportFormat(
    "plain", "plain text", (".plain",),
    lambda content, options: f"plain run {content.run.run_id}\\n",
    lambda content, options: f"plain project of {len(content.contents)} runs\\n",
)
'''


def _tiny_run(content, options: formats.ReportOptions) -> str:  # noqa: ANN001
    return f"tiny run {content.run.run_id} {content.run.name} chart={options.chart}\n"


def _tiny_project(content, options: formats.ReportOptions) -> str:  # noqa: ANN001
    return f"tiny project {len(content.contents)} runs\n"


TINY = formats.ReportFormat("tiny", "tiny text", (".tiny",), _tiny_run, _tiny_project)


@pytest.fixture
def store(tmp_path: Path, model_only: dict[str, object]) -> str:
    """A store with one real (model-only) run of project "fmt"."""
    path = str(tmp_path / "runs.sqlite")
    with wattprint.track(project="fmt", name="one", location="FR", store=path, interval_s=0.05,
                         **model_only) as run:  # type: ignore[arg-type]
        pass
    assert run.wait_saved(timeout=30)
    return path


@pytest.fixture
def tiny() -> Iterator[formats.ReportFormat]:
    formats.register(TINY)
    try:
        yield TINY
    finally:
        formats.unregister(TINY.name)


def test_a_registered_format_renders_a_run_through_render_report_and_the_command(
    store: str, tiny: formats.ReportFormat, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattprint.cli.main import main

    with open_store(store) as opened:
        run_id = next(iter(opened.runs(project="fmt"))).run_id
        assert render_report(opened, "tiny", run="last", chart=False) == f"tiny run {run_id} one chart=False\n"
        assert render_report(opened, "tiny", project="fmt") == "tiny project 1 runs\n"
    assert "tiny" in formats.names() and format_for_path("out.TINY") == "tiny"

    assert main(["--store", store, "report", "last", "--format", "tiny"]) == 0
    assert capsys.readouterr().out == f"tiny run {run_id} one chart=True\n"
    out = tmp_path / "report.tiny"
    assert main(["--store", store, "report", "last", "-o", str(out)]) == 0  # the extension chooses it
    assert out.read_text() == f"tiny run {run_id} one chart=True\n"
    assert "tiny text report of run last" in capsys.readouterr().err

    with pytest.raises(ValueError, match="'tiny' is taken"):
        formats.register(TINY)
    with pytest.raises(ValueError, match=r"\.md already means Markdown"):
        formats.register(formats.ReportFormat("md2", "other", (".md",), _tiny_run, _tiny_project))


def test_an_unregistered_format_is_refused_again(store: str) -> None:
    formats.register(TINY)
    formats.unregister(TINY.name)
    with open_store(store) as opened, pytest.raises(ConfigError, match="format='tiny' is not valid"):
        render_report(opened, "tiny", run="last")
    with pytest.raises(ConfigError, match=r"\.tiny files.*\(md, html, latex, model-card\)"):
        format_for_path("out.tiny")


def test_an_entry_point_adds_a_format_and_a_broken_one_is_logged_once(store: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "wattprint_plain-0.1.dist-info").mkdir(parents=True)
    (site / "wattprint_plain-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: wattprint-plain\nVersion: 0.1\n")
    (site / "wattprint_plain-0.1.dist-info" / "entry_points.txt").write_text(
        "[wattprint.report_formats]\nplain = wattprint_plain:FORMAT\nbroken = wattprint_broken:FORMAT\n"
        "taken = wattprint_plain:TAKEN\n")
    (site / "wattprint_plain.py").write_text(
        PLUGIN + 'TAKEN = ReportFormat("md", "again", (), FORMAT.render_run, FORMAT.render_project)\n')
    (site / "wattprint_broken.py").write_text("raise RuntimeError('the plug-in is broken')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))

    def report(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([WATTPRINT, "--store", store, "report", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    done = report("last", "--format", "plain")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("plain run ")
    assert done.stderr.count("'broken'") == 1 and "RuntimeError: the plug-in is broken" in done.stderr
    assert done.stderr.count("'taken'") == 1 and "'md' is taken" in done.stderr
    project = report("--project", "fmt", "--format", "plain")
    assert project.returncode == 0 and project.stdout == "plain project of 1 runs\n"
    markdown = report("last", "--format", "md")  # the built-in formats are untouched by the broken ones
    assert markdown.returncode == 0 and markdown.stdout.startswith("# Energy and carbon report")
    refused = report("last", "--format", "broken")
    assert refused.returncode == 2 and "invalid choice: 'broken'" in refused.stderr
    assert "'plain'" in refused.stderr  # the choices listed come from the registry
