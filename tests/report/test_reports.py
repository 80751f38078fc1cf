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
from wattprint.core.errors import ConfigError
from wattprint.core.formatting import format_emissions, format_energy
from wattprint.report.content import content_from_records, run_content
from wattprint.report.html import html_report
from wattprint.report.latex import escape, latex_report
from wattprint.report.markdown import markdown_report
from wattprint.report.model_card import co2_eq_emissions, merge_front_matter, update_model_card
from wattprint.report.paper import paper_paragraph
from wattprint.report.project import project_content, project_html, project_latex, project_markdown
from wattprint.store import IntervalRecord, open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
ROOT = Path(__file__).resolve().parents[2]
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


_UNITS = {"mWh": 3.6, "Wh": 3600.0, "kWh": 3.6e6, "MWh": 3.6e9, "mg": 1e-3, "g": 1.0, "kg": 1e3, "t": 1e6}


def parse_figure(text: str) -> float:
    """A figure as the reports print it (``"19.4 mWh"``, ``"1.63 kg CO2e"``) back in J or g."""
    number, unit = text.replace(",", "").split()[:2]
    return float(number) * _UNITS[unit]


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
    assert summary["IT energy"] == f"{format_energy(run.energy_j)} ±{run.energy_uncertainty_rel:.0%}"
    assert summary["Emissions"].startswith(format_emissions(run.emissions_g))
    assert "gcp:europe-west1" in summary["Location"] and "given explicitly" in summary["Location"]
    assert "Google Cloud region-carbon-info" in summary["Grid intensity"] and "2024" in summary["Grid intensity"]
    components = tables["Energy by component"]
    assert components[0][:2] == ["Component", "Device"]
    rows = {(r[0], r[1]): r for r in components[1:]}
    for c in content.components:
        row = rows[(c.component, c.device)]
        assert parse_figure(row[2]) == pytest.approx(c.energy_j, rel=5e-3)
        assert row[4] == c.method and row[5] == f"±{c.uncertainty_rel:.0%}"
    assert rows[("gpu", "gpu:0")][4] == "counter"
    power = tables["Power over time"]
    assert "gpu (W)" in power[0] and len(power) == 1 + len(content.power_steps())
    total_energy = sum(parse_figure(r[-1]) for r in power[1:])
    assert total_energy == pytest.approx(run.energy_j, rel=1e-2)
    tasks = tables["Tasks"]
    assert [r[1] for r in tasks[1:]] == ["epoch_0", "epoch_1"]
    sources = {r[0]: r for r in tables["Data sources"][1:]}
    assert sources["grid carbon intensity"][2] == str(run.intensity_year)
    assert "PUE" in sources
    # a fraction of a gram reads as no everyday equivalent, so none is listed as a source either
    assert not content.equivalents()[0].readable and not any(k.startswith("equivalent:") for k in sources)
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
        assert (row[0], row[1], row[4]) == (c.component, c.device, c.method)
        assert parse_figure(row[2]) == pytest.approx(c.energy_j, rel=5e-3)
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
    assert table[0] == ["From (s)", "To (s)", "gpu (W)", "cpu (W)", "Total (W)", "Energy"]
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
    assert totals["Runs"] == "2" and totals["Emissions"].startswith(format_emissions(project.emissions_g))
    assert "against" in totals["Trend"]
    per_run = tables["Runs, oldest first"]
    assert [row[0] for row in per_run[1:]] == [r.run_id[:12] for r in runs]
    assert sum(parse_figure(row[6]) for row in per_run[1:]) == pytest.approx(project.emissions_g, rel=1e-2)
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


# -- issue 12: wording that follows the method, human units, sources' years, charts and names -------------------


def _with_methods(content, methods: dict[str, str]):  # noqa: ANN001, ANN202
    """The run's content with each component's records set to ``methods[component]``."""
    components = tuple(dataclasses.replace(c, method=methods.get(c.component, c.method)) for c in content.components)
    return content_from_records(content.run, components, content.intervals, content.tasks)


def test_the_wording_follows_the_method(stored: str) -> None:
    """A run whose energy is entirely modelled is "estimated with a model", never "measured"."""
    content = first_run(stored)
    modelled = _with_methods(content, {"gpu": "model", "cpu": "model", "ram": "model"})
    assert modelled.obtained == "estimated"
    paragraph = paper_paragraph(modelled)
    assert paragraph.startswith("We estimated the energy use") and "We measured" not in paragraph
    assert "measured with" not in co2_eq_emissions(modelled)["source"]
    assert "estimated with a power model" in co2_eq_emissions(modelled)["source"]
    summary = dict(markdown_tables(markdown_report(modelled))[f"Energy and carbon report: {modelled.title}"][1:])
    assert "Measured with" not in summary and summary["Estimated with"].startswith("wattprint")
    assert "measured with" not in latex_report(modelled) and "measured with" not in html_report(modelled, chart=False)

    measured = _with_methods(content, {"gpu": "counter", "cpu": "counter", "ram": "counter"})
    assert measured.obtained == "measured" and paper_paragraph(measured).startswith("We measured the energy")
    assert "measured with wattprint" in co2_eq_emissions(measured)["source"]

    mixed = _with_methods(content, {"gpu": "counter", "cpu": "model"})
    assert mixed.obtained == "mixed"
    assert paper_paragraph(mixed).startswith("We measured part of the energy use")
    source = co2_eq_emissions(mixed)["source"]
    assert "measured (gpu)" in source and "estimated with a power model (cpu" in source


def test_reports_print_human_units_and_readable_equivalents(stored: str) -> None:
    """No ``6.83767e-05 kWh``, no 7-figure equivalents, no ``1.312e-07 tree seedlings``."""
    with open_store(stored) as store:
        project = project_content(store, "paper")
    content = first_run(stored)
    for text in (project_markdown(project), project_latex(project), markdown_report(content),
                 latex_report(content), paper_paragraph(content)):
        assert not re.search(r"\d\.?\d*e-\d", text), re.search(r".{30}\d\.?\d*e-\d.{10}", text)
        for number in re.findall(r"([\d,.]+) (?:k?Wh|mWh|g|kg|mg)\b", text):
            digits = number.replace(",", "").replace(".", "").lstrip("0")
            assert len(digits.rstrip("0") if "." not in number else digits) <= 3, number
    big = dataclasses.replace(content, run=dataclasses.replace(content.run, emissions_g=1234.5678,
                                                               emissions_uncertainty_rel=0.1))
    rows = markdown_tables(markdown_report(big))["Everyday equivalents"]
    values = {row[0]: row[1] for row in rows[1:]}
    # 1,234.5678 g / 12.4 g per charge = 99.56 -> 100; seedlings (60 kg each): 0.02, left out
    assert values["smartphones charged"] == "≈ 100 smartphone charges (±10%)"
    assert not any("seedling" in key for key in values)
    assert values.keys() >= {"km driven by an average gasoline passenger car",
                             "miles driven by an average gasoline passenger car"}
    small = dataclasses.replace(content, run=dataclasses.replace(content.run, emissions_g=0.001))
    assert "Everyday equivalents" not in markdown_report(small)


def test_every_source_is_dated_or_says_why_not(stored: str) -> None:
    """A PUE source that names its year gives it (2024); CCF's region PUE names only its code's date, and says
    the period's year is not stated: never "-" or "undated" beside a dated source."""
    content = first_run(stored)
    sources = {s.what: s for s in content.sources()}
    assert "code of 2024-03-25" in sources["PUE"].source and sources["PUE"].year == "not stated by the source"
    world = dataclasses.replace(content, run=dataclasses.replace(content.run, extra=dataclasses.replace(
        content.details, pue_source="industry average for an unknown data centre (global average (Uptime Institute "
                                    "survey), 2024; green-algorithms defaults_PUE.csv)")))
    assert {s.what: s for s in world.sources()}["PUE"].year == "2024"
    undated = dataclasses.replace(content, run=dataclasses.replace(
        content.run, intensity_year=None,
        intensity_source="Cloud Carbon Footprint (AwsFootprintEstimationConstants.ts, code of 2024-03-25; "
                         "data year not stated)"))
    assert undated.sources()[0].year == "not stated by the source"
    for text in (markdown_report(undated), paper_paragraph(undated)):
        assert "undated" not in text
    assert all(s.year for s in content.sources())


def _records(buckets: list[tuple[float, float, dict[str, float]]]) -> list[IntervalRecord]:
    return [IntervalRecord(bucket=b, start_offset_s=start, end_offset_s=end, component=name, device=name,
                           energy_j=joules, avg_power_w=joules / (end - start), method="counter", uncertainty_rel=0.05)
            for b, (start, end, energies) in enumerate(buckets) for name, joules in energies.items()]


def test_a_last_sliver_of_a_bucket_draws_no_spike(stored: str) -> None:
    """A 30 ms bucket after the last full one, with a counter step and RAM at 0 W, was drawn at 66 W and 0 W."""
    content = first_run(stored)
    intervals = _records([(0.0, 10.0, {"cpu": 100.0, "ram": 10.0}), (10.0, 20.0, {"cpu": 100.0, "ram": 10.0}),
                          (20.0, 20.03, {"cpu": 2.0, "ram": 0.0})])
    steps = content_from_records(content.run, content.components, intervals).power_steps()
    assert len(steps) == 2 and steps[-1].end_offset_s == pytest.approx(20.03)
    assert steps[-1].power_w["cpu"] == pytest.approx(102.0 / 10.03) and steps[-1].power_w["ram"] == pytest.approx(
        10.0 / 10.03)
    assert sum(s.energy_j for s in steps) == pytest.approx(222.0)
    assert max(s.total_power_w for s in steps) < 12.0


def test_a_run_shorter_than_a_bucket_is_charted_from_its_tasks(stored: str) -> None:
    """Interval buckets are 10 s wide: a 0.3 s run has one; its two epochs give the chart a finer resolution."""
    content = first_run(stored)
    assert len(content.power_steps()) < 3 and len(content.tasks) == 2
    steps, note = content.chart_steps()
    assert len(steps) == 2 and "tasks" in note
    assert [round(s.energy_j, 6) for s in steps] == [round(t.energy_j, 6) for t in content.tasks]
    page = html_report(content)
    assert "drawn from the run&#x27;s 2 tasks" in page and "too coarse" in page
    bare = content_from_records(content.run, content.components, content.intervals)
    steps, note = bare.chart_steps()
    assert len(steps) == len(bare.power_steps()) and "not its variation" in note


def test_project_chart_labels_are_unique_names_and_dates(stored: str) -> None:
    from wattprint.report.project import run_labels

    with open_store(stored) as store:
        runs = project_content(store, "paper").runs
    twins = [dataclasses.replace(runs[0], run_id="0" * 8 + suffix, name="train.py") for suffix in ("a" * 24, "b" * 24)]
    labels = run_labels([*twins, *runs])
    assert len(set(labels)) == len(labels)
    assert all(label.startswith("train.py ") for label in labels[:2])
    assert not any(label.startswith("00000000") for label in labels)


def test_tables_shorten_names_at_a_word_not_mid_word(stored: str) -> None:
    from wattprint.core.formatting import shorten
    from wattprint.data import search_intensity
    from wattprint.report.regions import regions_table

    assert shorten("Google Cloud northamerica-northeast1: Montréal", 32) == "Google Cloud northamerica…"
    assert shorten("Google Cloud europe-west1: Belgium", 32) == "Google Cloud europe-west1…"
    assert shorten("short", 32) == "short"
    table = regions_table(search_intensity("europe-north2"))
    assert "Stockh " not in table and "Google Cloud europe-north2…" in table
    from wattprint.report.summary import runs_table

    with open_store(stored) as store:
        run = store.runs(project="paper")[0]
    long = dataclasses.replace(run, name="resnet50 imagenet baseline", project="vision experiments")
    line = runs_table([long]).splitlines()[1]
    assert "resnet50 imagenet…" in line and "vision…" in line and "imagenet b " not in line


def test_a_measured_command_is_named_after_its_script() -> None:
    from wattprint.run.command import default_run_name

    assert default_run_name(["python", "train.py"]) == "train.py"
    assert default_run_name(["/usr/bin/python3.11", "-u", "src/train.py", "--lr", "0.1"]) == "train.py"
    assert default_run_name(["python", "-m", "pkg.train"]) == "pkg.train"
    assert default_run_name(["torchrun", "--nproc-per-node", "8", "train.py"]) == "train.py"
    assert default_run_name(["accelerate", "launch", "--num_processes", "2", "train.py"]) == "train.py"
    assert default_run_name(["uv", "run", "python", "train.py"]) == "train.py"
    assert default_run_name(["./train.sh"]) == "train.sh" and default_run_name(["sleep", "1"]) == "sleep"
    assert default_run_name(["python", "-c", "print(1)"]) == "python"


def test_one_set_of_formatters_reads_in_human_units() -> None:
    from wattprint.core.formatting import (
        energy_unit,
        format_emissions,
        format_energy,
        format_energy_kwh,
        format_number,
        format_volume_l,
        mass_unit,
    )

    # 6.83767e-05 kWh is 68.4 mWh; 2.5 J is 0.694 mWh; 30 kWh stays 30 kWh
    assert format_energy_kwh(6.83767e-05) == "68.4 mWh"
    assert format_energy(2.5) == "0.694 mWh" and format_energy_kwh(30.0) == "30 kWh" and format_energy(0) == "0 Wh"
    assert format_emissions(5.17e-4) == "0.517 mg CO2e" and format_emissions(1234.5) == "1.23 kg CO2e"
    assert format_volume_l(0.0225) == "22.5 mL" and format_volume_l(10e-3) == "10 mL"
    assert format_number(9956.0, 2) == "10,000" and format_number(1.312e-07, 2) == "0.00000013"
    assert format_number(99.96, 2) == "100" and format_number(8.0645, 2) == "8.1"
    assert energy_unit(7.2) == (3.6, "mWh") and mass_unit(1500.0) == (1000.0, "kg")


def test_no_output_a_user_reads_carries_a_to_do(stored: str) -> None:
    """Notes such as "newer vintages reportedly ~0.84 - VERIFY" must never be printed: scan what users read."""
    todo = re.compile(r"\b(?:verify|verification|unverified|todo|fixme|tbd)\b|reportedly", re.IGNORECASE)
    content = first_run(stored)
    big = dataclasses.replace(content, run=dataclasses.replace(content.run, emissions_g=5e6))
    outputs = [markdown_report(big), html_report(big, chart=False), latex_report(big), paper_paragraph(big)]
    for command in (["regions", "--json"], ["show", "last"], ["show", "last", "--json"],
                    ["compare-regions", "--energy-kwh", "1", "--provider", "aws", "--json"]):
        done = subprocess.run([WATTPRINT, "--store", stored, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    for text in outputs:
        found = todo.search(text)
        assert found is None, text[max(0, found.start() - 80):found.end() + 40]


def test_a_code_snapshot_date_is_not_read_as_a_data_year() -> None:
    from wattprint.report.content import _stated_year

    ccf = ("gcp europe-west1 default (region (trailing twelve months, as used by CCF); Cloud Carbon Footprint "
           "GcpFootprintEstimationConstants.ts (code of 2024-03-25; period's year not stated))")
    assert _stated_year(ccf) == "not stated by the source"
    assert _stated_year("aws default (global average, 2024; AWS re:Invent 2024 disclosure)") == "2024"
    assert _stated_year("given (pue=1.1)") == "given"
