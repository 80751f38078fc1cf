"""Reports from real stored runs, parsed back: Markdown tables, HTML (html.parser), LaTeX as text, the model card
block with PyYAML and huggingface_hub's ModelCard, and the project report."""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.errors import ConfigError
from wattprint.report.content import content_from_records, run_content
from wattprint.report.html import html_report
from wattprint.report.latex import escape, latex_report
from wattprint.report.markdown import markdown_report
from wattprint.report.model_card import co2_eq_emissions, merge_front_matter, update_model_card
from wattprint.report.paper import paper_paragraph
from wattprint.report.project import project_content, project_html, project_latex, project_markdown
from wattprint.store import IntervalRecord, open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
ROOT = Path(__file__).resolve().parent.parent
NAME = "lr_0.1 & 50% #1 {x} <b>"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with two real runs of project "paper": a GPU (fake NVML) run with tasks, priced in gcp:europe-west1,
    and a second, shorter one."""
    root = tmp_path_factory.mktemp("reports")
    powercap = root / "powercap-empty"
    powercap.mkdir()
    store = str(root / "runs.sqlite")
    for name, seconds in ((NAME, 0.3), ("second", 0.1)):
        with wattprint.track(project="paper", name=name, location="gcp:europe-west1", store=store,
                             nvml=FakeNvml([FakeGpu(power_w=220.0)]), powercap_root=str(powercap),
                             interval_s=0.05) as run:
            for epoch in range(2):
                with run.task(f"epoch_{epoch}"):
                    end = time.perf_counter() + seconds / 2
                    while time.perf_counter() < end:
                        pass
        assert run.wait_saved(timeout=30)
    return store


def first_run(store: str):  # noqa: ANN201
    with open_store(store) as opened:
        ref = next(r.run_id for r in opened.runs(project="paper") if r.name == NAME)
        return run_content(opened, ref)


class Tables(HTMLParser):
    """Every <table> of a page as lists of rows of cell texts, by id; plus img sources and paragraph texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.text: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag not in ("img", "meta"):
            self.stack.append(tag)
        if tag == "table":
            self._table = []
            self.tables[attributes.get("id") or f"table{len(self.tables)}"] = self._table
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attributes.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


def parse_html(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Each Markdown table under its preceding heading: rows of cells (the alignment row dropped)."""
    tables: dict[str, list[list[str]]] = {}
    heading = "top"
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        elif line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if all(re.fullmatch(r"-+:?|:?-+", c) for c in cells):
                continue
            tables.setdefault(heading, []).append(cells)
    return tables


def test_markdown_report_tables_and_values(stored: str) -> None:
    content = first_run(stored)
    run = content.run
    text = markdown_report(content)
    tables = markdown_tables(text)
    summary = {row[0]: row[1] for row in tables[f"Energy and carbon report: {content.title}"][1:]}
    assert summary["Run"] == run.run_id and summary["Name"] == NAME and summary["Status"] == "finished"
    assert f"{run.energy_j / 3.6e6:.6g} kWh" in summary["IT energy"]
    assert f"({run.emissions_g:.6g} g)" in summary["Emissions"]
    assert "gcp:europe-west1" in summary["Location"] and "given explicitly" in summary["Location"]
    assert "Google Cloud region-carbon-info" in summary["Grid intensity"] and "2024" in summary["Grid intensity"]
    components = tables["Energy by component"]
    assert components[0][:2] == ["Component", "Device"]
    rows = {(r[0], r[1]): r for r in components[1:]}
    for c in content.components:
        row = rows[(c.component, c.device)]
        assert float(row[2]) == pytest.approx(c.energy_j, rel=1e-5)
        assert row[5] == c.method and row[6] == f"±{c.uncertainty_rel:.0%}"
    assert rows[("gpu", "gpu:0")][5] == "counter"
    power = tables["Power over time"]
    assert "gpu (W)" in power[0] and len(power) == 1 + len(content.power_steps())
    total_energy = sum(float(r[-1]) for r in power[1:])
    assert total_energy == pytest.approx(run.energy_j, rel=1e-3)
    tasks = tables["Tasks"]
    assert [r[1] for r in tasks[1:]] == ["epoch_0", "epoch_1"]
    sources = {r[0]: r for r in tables["Data sources"][1:]}
    assert sources["grid carbon intensity"][2] == str(run.intensity_year)
    assert "PUE" in sources and any(k.startswith("equivalent:") for k in sources)
    assert "## For your paper" in text and paper_paragraph(content) in text
    assert f"wattprint {wattprint.__version__}" in text


def test_the_paper_paragraph_says_what_a_paper_needs(stored: str) -> None:
    content = first_run(stored)
    run = content.run
    paragraph = paper_paragraph(content)
    for needed in ("NVIDIA H100 80GB HBM3 GPU", "Google Cloud europe-west1", "PUE of 1.09", "wattprint",
                   f"±{run.energy_uncertainty_rel * 100:.0f}%", f"±{run.emissions_uncertainty_rel * 100:.0f}%",
                   "Google Cloud region-carbon-info 2024.csv, 2024", "energy counters", "CO2e"):
        assert needed in paragraph, needed
    assert "\n" not in paragraph


def test_html_report_parses_and_holds_the_tables_and_chart(stored: str) -> None:
    content = first_run(stored)
    page = html_report(content)
    parsed = parse_html(page)
    assert page.startswith("<!DOCTYPE html>")
    components = parsed.tables["components"]
    assert components[0][0] == "Component" and len(components) == 1 + len(content.components)
    for row, c in zip(components[1:], content.components, strict=True):
        assert (row[0], row[1], row[5]) == (c.component, c.device, c.method)
        assert float(row[2]) == pytest.approx(c.energy_j, rel=1e-5)
    summary = dict(parsed.tables["summary-table"][1:])
    assert summary["Name"] == NAME  # escaped in the page, intact once parsed
    assert "&lt;b&gt;" in page and NAME.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert [r[1] for r in parsed.tables["tasks"][1:]] == ["epoch_0", "epoch_1"]
    assert len(parsed.tables["power-table"]) == 1 + len(content.power_steps())
    assert "grid carbon intensity" in [r[0] for r in parsed.tables["sources"]]
    (image,) = parsed.images
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    no_chart = parse_html(html_report(content, chart=False))
    assert no_chart.images == [] and "power-table" in no_chart.tables


def test_html_report_without_matplotlib_says_so_and_keeps_the_table(stored: str) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # an absent optional dependency: import fails
        "from wattprint.report.content import run_content\n"
        "from wattprint.report.html import html_report\n"
        "from wattprint.store import open_store\n"
        f"store = open_store({stored!r})\n"
        "print(html_report(run_content(store, store.runs(project='paper')[-1].run_id)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    parsed = parse_html(done.stdout)
    assert parsed.images == [] and "power-table" in parsed.tables
    assert "No chart: matplotlib is not installed" in done.stdout


def test_a_long_run_has_one_power_row_per_bucket_and_a_chart(stored: str, tmp_path: Path) -> None:
    """Interval buckets of 10 s over five minutes, as the recorder writes them, saved in a real store."""
    content = first_run(stored)
    run = dataclasses.replace(content.run, run_id="ab" * 16, duration_s=300.0)
    intervals = [
        IntervalRecord(bucket=b, start_offset_s=10.0 * b, end_offset_s=10.0 * (b + 1), component=component,
                       device=device, energy_j=power * 10.0, avg_power_w=power, method="counter",
                       uncertainty_rel=0.05)
        for b in range(30)
        for component, device, power in (("gpu", "gpu:0", 200.0 + b), ("gpu", "gpu:1", 100.0), ("cpu", "cpu", 50.0))
    ]
    with open_store(str(tmp_path / "long.sqlite")) as store:
        store.save(run, content.components, intervals)
        long = run_content(store, run.run_id)
    steps = long.power_steps()
    assert len(steps) == 30 and steps[3].power_w == {"gpu": pytest.approx(303.0), "cpu": pytest.approx(50.0)}
    parsed = parse_html(html_report(long))
    table = parsed.tables["power-table"]
    assert table[0] == ["From (s)", "To (s)", "gpu (W)", "cpu (W)", "Total (W)", "Energy (J)"]
    assert len(table) == 31 and table[4][2] == "303"
    assert len(parsed.images) == 1
    assert len(markdown_tables(markdown_report(long))["Power over time"]) == 31


def latex_text_outside_commands(text: str) -> str:
    """The text with escaped characters, commands and math removed: what must hold no special character."""
    text = text.replace("~\\ref", "\\ref")  # a tie before a reference is meant
    text = re.sub(r"\\[%&#_${}]", "", text)
    text = re.sub(r"\$[^$]*\$", "", text)
    text = re.sub(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?", "", text)
    return text


def test_latex_report_is_valid_text_with_special_characters_escaped(stored: str) -> None:
    content = first_run(stored)
    text = latex_report(content)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
    unescaped = re.sub(r"\\[{}]", "", body)
    depth = 0
    for ch in unescaped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    plain = latex_text_outside_commands(body)
    for special in "%&#_$^~":
        if special == "&":
            continue  # column separators of the tabular
        assert special not in plain, special
    assert escape(NAME) in text and r"lr\_0.1 \& 50\% \#1 \{x\} \textless{}b\textgreater{}" in text
    assert text.count(r"\begin{table}") == text.count(r"\end{table}") == 1
    rows = [line for line in body.splitlines() if line.rstrip().endswith(r"\\")]
    assert len({line.count("&") - line.count(r"\&") for line in rows}) == 1  # every row has the same columns
    assert r"$\pm$" in text and "±" not in body
    assert text.isascii()


def test_model_card_block_loads_as_yaml(stored: str) -> None:
    content = first_run(stored)
    block = co2_eq_emissions(content, training_type="fine-tuning")
    assert set(block) == {"emissions", "source", "training_type", "geographical_location", "hardware_used"}
    assert block["emissions"] == pytest.approx(content.run.emissions_g, rel=1e-5)
    assert isinstance(block["emissions"], float)
    done = subprocess.run([WATTPRINT, "--store", stored, "report", content.run.run_id[:10], "--format", "model-card",
                           "--training-type", "fine-tuning"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    front = done.stdout.split("---\n")[1]
    loaded = yaml.safe_load(front)["co2_eq_emissions"]
    assert loaded == block
    assert "NVIDIA H100 80GB HBM3 GPU" in loaded["hardware_used"]
    assert "gcp:europe-west1" in loaded["geographical_location"]
    # a tiny figure stays a number in YAML 1.1, not a string
    tiny = dataclasses.replace(content, run=dataclasses.replace(content.run, emissions_g=1e-05))
    front_matter = merge_front_matter("", co2_eq_emissions(tiny)).split("---\n")[1]
    assert yaml.safe_load(front_matter)["co2_eq_emissions"]["emissions"] == 1e-05


CARD = """---
language:
- en
license: apache-2.0
# a comment the merge must keep
tags:
- text-classification
- wattprint
co2_eq_emissions:
  emissions: 1.0
  source: "an old figure"
model-index:
- name: demo
  results: []
---

# Demo model

Some text.

---

A horizontal rule above, and a table below.

| a | b |
|---|---|
"""


def test_update_merges_into_a_model_card_that_round_trips_through_huggingface_hub(stored: str,
                                                                                   tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    content = first_run(stored)
    readme = tmp_path / "README.md"
    readme.write_text(CARD)
    before = ModelCard.load(readme)
    done = subprocess.run([WATTPRINT, "--store", stored, "report", content.run.run_id, "--update", str(readme)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    card = ModelCard.load(readme)
    block = co2_eq_emissions(content)
    assert card.data.co2_eq_emissions == block
    assert card.data.co2_eq_emissions["emissions"] == pytest.approx(content.run.emissions_g, rel=1e-5)
    assert card.text == before.text  # the body untouched
    after = card.data.to_dict()
    earlier = before.data.to_dict()
    after.pop("co2_eq_emissions")
    earlier.pop("co2_eq_emissions")
    assert after == earlier
    text = readme.read_text()
    assert text.count("co2_eq_emissions:") == 1 and "an old figure" not in text
    # every other line is exactly as it was, in its place
    old_lines = [line for line in CARD.splitlines() if not line.startswith(("co2_eq_emissions", "  emissions",
                                                                            "  source"))]
    new_lines = [line for line in text.splitlines() if not line.startswith(("co2_eq_emissions", "  "))]
    assert [line for line in old_lines if not line.startswith("  ")] == new_lines
    assert "# a comment the merge must keep" in text and text.index("co2_eq_emissions") < text.index("model-index")
    # again: nothing changes
    update_model_card(readme, block)
    assert readme.read_text() == text


def test_update_adds_front_matter_keeps_crlf_and_refuses_broken_cards(stored: str, tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    block = co2_eq_emissions(first_run(stored))
    bare = tmp_path / "bare.md"
    bare.write_text("# No front matter\n\nJust text.\n")
    update_model_card(bare, block)
    assert ModelCard.load(bare).data.co2_eq_emissions == block
    assert bare.read_text().endswith("---\n# No front matter\n\nJust text.\n")

    crlf = tmp_path / "crlf.md"
    crlf.write_bytes(b"---\r\nlicense: mit\r\n---\r\n# Title\r\n")
    update_model_card(crlf, block)
    data = crlf.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert ModelCard.load(crlf).data.license == "mit"

    broken = tmp_path / "broken.md"
    broken.write_text("---\nlicense: [unclosed\n---\nbody\n")
    with pytest.raises(ConfigError, match="does not parse"):
        update_model_card(broken, block)
    assert broken.read_text() == "---\nlicense: [unclosed\n---\nbody\n"
    with pytest.raises(ConfigError, match="no such model card"):
        update_model_card(tmp_path / "missing.md", block)
    assert not (tmp_path / "missing.md").exists()


def test_project_report_totals_runs_and_trend(stored: str) -> None:
    with open_store(stored) as store:
        project = project_content(store, "paper")
        with pytest.raises(LookupError, match="projects: 'paper'"):
            project_content(store, "nope")
    runs = project.runs
    assert len(runs) == 2 and runs[0].started_at <= runs[1].started_at
    assert project.energy_kwh == pytest.approx(sum(r.energy_j for r in runs) / 3.6e6)
    assert project.emissions_g == pytest.approx(sum(r.emissions_g for r in runs))
    linear = sum(r.emissions_g * r.emissions_uncertainty_rel for r in runs) / project.emissions_g
    assert project.emissions_uncertainty_rel == pytest.approx(linear)

    tables = markdown_tables(project_markdown(project))
    totals = {row[0]: row[1] for row in tables["Energy and carbon report: project paper"][1:]}
    assert totals["Runs"] == "2" and f"({project.emissions_g:.6g} g)" in totals["Emissions"]
    assert "against" in totals["Trend"]
    per_run = tables["Runs, oldest first"]
    assert [row[0] for row in per_run[1:]] == [r.run_id[:12] for r in runs]
    assert sum(float(row[6]) for row in per_run[1:]) == pytest.approx(project.emissions_g, rel=1e-5)
    assert tables["By day (UTC)"][1][1] == "2"

    parsed = parse_html(project_html(project))
    assert len(parsed.tables["runs"]) == 3 and len(parsed.images) == 1
    latex = project_latex(project)
    assert latex.count(r"\\") >= 3 and r"\begin{tabular}" in latex

    block = co2_eq_emissions(list(project.contents))
    assert block["emissions"] == pytest.approx(project.emissions_g, rel=1e-5) and "2 runs" in block["source"]


def run_report(store: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WATTPRINT, "--store", store, "report", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_command_picks_the_format_from_the_extension(stored: str, tmp_path: Path) -> None:
    for suffix, check in ((".md", "# Energy and carbon report"), (".html", "<!DOCTYPE html>"),
                          (".tex", r"\paragraph{Energy and carbon footprint.}")):
        out = tmp_path / f"report{suffix}"
        done = run_report(stored, "last", "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert check in out.read_text()
    project = run_report(stored, "--project", "paper", "--format", "latex")
    assert project.returncode == 0 and "Runs of project paper" in project.stdout
    neither = run_report(stored)
    assert neither.returncode == 1 and "give one run" in neither.stderr
    clash = run_report(stored, "last", "--format", "md", "--update", str(tmp_path / "README.md"))
    assert clash.returncode == 1 and "--update" in clash.stderr


def test_a_run_without_carbon_has_no_model_card(stored: str) -> None:
    content = first_run(stored)
    bare = content_from_records(dataclasses.replace(content.run, emissions_g=None), content.components)
    with pytest.raises(ConfigError, match="no emissions"):
        co2_eq_emissions(bare)
    assert "its emissions were not computed" in paper_paragraph(bare)


def test_the_documented_examples_run(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "reports.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "co2_eq_emissions:" in done.stdout and "training_type: \"fine-tuning\"" in done.stdout
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
