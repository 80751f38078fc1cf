"""The command line as a new user meets it: output that parses, pipes that close, messages in its own terms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.cli.main import main

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


def wattprint(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=120, **kwargs)


def test_run_json_stays_valid_when_the_command_prints(env: dict[str, str]) -> None:
    code = "import sys; print('hello from the command'); print('{', flush=True); sys.stderr.write('err\\n')"
    completed = wattprint("run", "--json", "--", sys.executable, "-c", code, env=env)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)  # nothing but the JSON on stdout
    assert data["status"] == "finished"
    assert "hello from the command" in completed.stderr and "err" in completed.stderr
    without = wattprint("run", "--", sys.executable, "-c", code, env=env)  # without --json: stdout as it was
    assert "hello from the command" in without.stdout
    assert "Set it with --location FR" in without.stderr  # the location hint names run's own option


@pytest.mark.parametrize("args", [("regions",), ("doctor", "--json"), ("show", "last")])
def test_a_closed_pipe_ends_quietly(env: dict[str, str], args: tuple[str, ...]) -> None:
    if args[0] == "show":
        assert wattprint("run", "--", sys.executable, "-c", "pass", env=env).returncode == 0
    read, write = os.pipe()
    os.close(read)  # the reader (head) has gone before we write: every write fails with EPIPE
    try:
        completed = subprocess.run([WATTPRINT, *args], env=env, stdout=write, stderr=subprocess.PIPE, text=True,
                                   timeout=120)
    finally:
        os.close(write)
    assert "Traceback" not in completed.stderr and "BrokenPipe" not in completed.stderr, completed.stderr
    assert completed.returncode == 141


def test_global_options_work_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "after.sqlite"
    assert main(["runs", "--store", str(store)]) == 0
    assert store.exists()
    assert main(["--store", str(tmp_path / "before.sqlite"), "runs"]) == 0
    assert (tmp_path / "before.sqlite").exists()


def test_a_mistyped_option_gets_the_commands_usage_and_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--projet", "x", "--", "true"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "usage: wattprint run" in err
    assert "did you mean --project?" in err


def test_every_example_line_is_a_pasteable_command(capsys: pytest.CaptureFixture[str]) -> None:
    from wattprint.cli.main import build_parser

    parser, modules = build_parser()
    helps = [("wattprint", parser.format_help())] + [(name, sub.format_help()) for name, (_, sub) in modules.items()]
    for name, text in helps:
        assert "examples:" in text, name
        block = text.split("examples:", 1)[1].split("\n\n", 1)[0]
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            assert line.startswith("wattprint "), (name, line)
            command = line.split("  #", 1)[0]
            assert "  " not in command.strip(), f"{name}: a description without '#': {line!r}"


def test_messages_name_the_commands_options_not_python_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--gpu", "no such gpu", "--hours", "1"]) == 1
    err = capsys.readouterr().err
    assert "--power-w" in err and "power_w=" not in err
    assert main(["estimate", "--power-w", "100", "--hours", "1", "--location", "Atlantis"]) == 1
    err = capsys.readouterr().err
    assert "wattprint regions" in err and "search_intensity" not in err
    assert main(["plan", "--duration", "1h"]) == 1
    err = capsys.readouterr().err
    assert "--intensity-provider" in err and "docs/live.md" in err and err.count("https://") == 1
    assert main(["plan", "--duration", "1h", "--intensity-provider", "uk"]) == 1
    err = capsys.readouterr().err
    assert "--location or --zone" in err and "location=" not in err
    from wattprint.settings import hints

    assert hints.setting("power_w") == "pass power_w="  # the Python API keeps its own terms


def test_estimate_takes_a_cpu_tdp_and_names_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--cpu-tdp-w", "65", "--hours", "10", "--location", "FR", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["energy_kwh"] == pytest.approx(0.65)
    assert main(["estimate", "--cpu", "Xeon Gold 6248", "--cpu-tdp-w", "100", "--hours", "1", "--location", "FR",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["energy_kwh"] == pytest.approx(0.1)
    assert main(["estimate", "--hours", "1"]) == 1
    err = capsys.readouterr().err
    assert "--gpu, --cpu, --power-w or --memory-gb" in err and "gpu=" not in err
    assert main(["estimate", "--cores", "4", "--hours", "1"]) == 1
    assert "--cores needs --cpu" in capsys.readouterr().err


def test_run_takes_a_cpu_tdp(env: dict[str, str]) -> None:
    completed = wattprint("run", "--json", "--cpu-tdp-w", "65", "--", sys.executable, "-c", "pass", env=env)
    assert completed.returncode == 0, completed.stderr
    assert "maximum CPU power 65 W given by the user" in completed.stdout
    text = wattprint("show", "last", env=env).stdout
    assert "per-thread default" not in text and "cpu_tdp_w=" not in text


def test_report_refuses_an_extension_it_cannot_write(env: dict[str, str], tmp_path: Path) -> None:
    assert wattprint("run", "--", sys.executable, "-c", "pass", env=env).returncode == 0
    pdf = tmp_path / "out.pdf"
    completed = wattprint("report", "last", "-o", str(pdf), env=env)
    assert completed.returncode == 1 and not pdf.exists()
    assert ".html" in completed.stderr and ".tex" in completed.stderr and "--format" in completed.stderr
    html = tmp_path / "out.html"
    written = wattprint("report", "last", "-o", str(html), env=env)
    assert written.returncode == 0, written.stderr
    assert str(html) in written.stderr and "HTML" in written.stderr and "kB" in written.stderr
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    txt = tmp_path / "out.txt"
    assert wattprint("report", "last", "-o", str(txt), "--format", "md", env=env).returncode == 0


def test_export_says_what_it_wrote_and_refuses_unknown_extensions(env: dict[str, str], tmp_path: Path) -> None:
    assert wattprint("run", "--", sys.executable, "-c", "pass", env=env).returncode == 0
    out = tmp_path / "runs.csv"
    completed = wattprint("export", "-o", str(out), env=env)
    assert completed.returncode == 0 and out.exists()
    assert str(out) in completed.stderr and "CSV" in completed.stderr and "1 run" in completed.stderr
    bad = wattprint("export", "-o", str(tmp_path / "runs.xlsx"), env=env)
    assert bad.returncode == 1 and ".csv" in bad.stderr and ".json" in bad.stderr


def test_runs_of_an_unknown_project_lists_the_projects(env: dict[str, str]) -> None:
    assert wattprint("run", "--project", "mnist", "--", sys.executable, "-c", "pass", env=env).returncode == 0
    completed = wattprint("runs", "--project", "mnst", env=env)
    assert completed.returncode == 1
    assert "no runs yet" not in completed.stderr + completed.stdout
    assert "'mnist'" in completed.stderr and "did you mean 'mnist'" in completed.stderr


def test_monitor_measures_the_machine_until_sigterm_and_stores_a_run(env: dict[str, str]) -> None:
    import signal

    process = subprocess.Popen([WATTPRINT, "monitor", "--json", "--project", "lab"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    assert "monitoring this machine" in process.stderr.readline()  # written once the signal handlers are in place
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    data = json.loads(out)
    assert (data["name"], data["project"], data["status"], data["attribution"]) == ("monitor", "lab", "finished",
                                                                                    "machine")
    stored = json.loads(wattprint("show", data["run_id"], "--json", env=env).stdout)
    assert stored["status"] == "finished" and stored["duration_s"] == pytest.approx(data["duration_s"])


def test_monitor_for_a_duration(env: dict[str, str]) -> None:
    completed = wattprint("monitor", "--duration", "1", env=env)
    assert completed.returncode == 0, completed.stderr
    assert "monitor" in completed.stderr and "finished" in completed.stderr
    listed = json.loads(wattprint("runs", "--json", env=env).stdout)
    assert listed[0]["name"] == "monitor" and listed[0]["duration_s"] >= 1.0


def test_python_dash_m_wattprint_is_the_command_line(env: dict[str, str]) -> None:
    from wattprint import __version__

    completed = subprocess.run([sys.executable, "-m", "wattprint", "--version"], env=env, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0 and completed.stdout.strip() == f"wattprint {__version__}"


def test_no_message_points_at_a_docs_file_the_wheel_does_not_ship() -> None:
    """Strings that reach users (messages, notes, stored labels) link the docs by URL: the wheel has no docs/."""
    import ast
    import re

    import wattprint

    relative = re.compile(r"(?<![/\w])docs/[\w-]+\.md")
    found = []
    for path in Path(wattprint.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        documentation = {id(node.value) for node in ast.walk(tree)
                         if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation
                    and relative.search(node.value)):
                found.append(f"{path.name}:{node.lineno}: {node.value[:80]!r}")
    assert not found, "\n".join(found)
