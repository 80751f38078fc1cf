"""Importing runs recorded by the real CodeCarbon and Carbontracker (run briefly here, offline), and refusing
malformed files whole."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.fakes.peers import CARBONTRACKER, CODECARBON, produce
from wattprint.importers import IMPORTED, ImportFormatError, import_runs, read_runs, stable_run_id
from wattprint.report.content import run_content
from wattprint.report.html import html_report
from wattprint.report.markdown import markdown_report
from wattprint.report.model_card import co2_eq_emissions
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))

@pytest.fixture(scope="module")
def codecarbon_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codecarbon")
    produce(CODECARBON, out)
    return out / "emissions.csv"


@pytest.fixture(scope="module")
def carbontracker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("carbontracker")
    produce(CARBONTRACKER, out)
    return out


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    with open_store(str(tmp_path / "runs.sqlite")) as opened:
        yield opened


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# -- CodeCarbon ----------------------------------------------------------------------------------------------------


def test_codecarbon_runs_keep_the_files_figures(codecarbon_csv: Path, store) -> None:  # noqa: ANN001
    written = rows(codecarbon_csv)
    assert len(written) == 3 and len({r["run_id"] for r in written}) == 2  # a flush row and two final rows
    result = import_runs(store, "codecarbon", codecarbon_csv)
    assert len(result.runs) == 2 and result.already_stored == ()
    for own_id in {r["run_id"] for r in written}:
        final = max((r for r in written if r["run_id"] == own_id), key=lambda r: float(r["duration"]))
        run = store.run(stable_run_id("codecarbon", own_id))
        assert run.run_id == uuid.uuid5(uuid.UUID("5f1d0c7e-6a64-4c8e-9a57-7761747470e1"),
                                        f"codecarbon:{own_id}").hex
        pue = float(final["pue"])
        assert run.duration_s == pytest.approx(float(final["duration"]))
        assert run.energy_j == pytest.approx(float(final["energy_consumed"]) / pue * 3.6e6)
        assert run.facility_energy_j == pytest.approx(float(final["energy_consumed"]) * 3.6e6)
        assert run.emissions_g == pytest.approx(float(final["emissions"]) * 1000)
        assert run.pue == pytest.approx(pue)
        assert float(final["wue"]) == 0 and run.water_l is None  # CodeCarbon's WUE 0 means "not set"
        assert run.attribution == final["tracking_mode"] and run.status == "finished"
        extra = run.details
        assert extra.imported_from == "codecarbon" and extra.source_run_id == own_id
        assert extra.file == str(codecarbon_csv.resolve()) and (extra.source_fields or {})["run_id"] == own_id
        assert extra.tool_version == final["codecarbon_version"]
        components = {c.component: c for c in store.components(run.run_id)}
        assert {c.method for c in components.values()} == {IMPORTED}
        assert components["cpu"].energy_j == pytest.approx(float(final["cpu_energy"]) / pue * 3.6e6)
        assert components["ram"].energy_j == pytest.approx(float(final["ram_energy"]) / pue * 3.6e6)
        assert "gpu" not in components  # no GPU here, and the file says so
        if final["country_iso_code"] == "FRA":
            assert run.location == "FR" and run.project == "codecarbon" and extra.rows_of_run == 2
        else:
            assert run.location == "US-CA" and run.project == "cc-project" and pue == 1.5
        assert run.intensity_g_per_kwh == pytest.approx(run.emissions_g / (run.facility_energy_j / 3.6e6))


def test_importing_the_same_file_again_duplicates_nothing(codecarbon_csv: Path, store) -> None:  # noqa: ANN001
    first = import_runs(store, "codecarbon", codecarbon_csv)
    again = import_runs(store, "codecarbon", codecarbon_csv, project="renamed")
    assert set(again.already_stored) == set(first.run_ids) == set(again.run_ids)
    assert len(store.runs(limit=None)) == 2
    assert {r.project for r in store.runs(limit=None)} == {"renamed"}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, r: (h, [r[0].replace(r[0].split(",")[10], "abc", 1)] + r[1:]), "line 2, field 'cpu_energy': 'abc'"),
        (lambda h, r: (h, r[:1] + [r[1] + ",extra"] + r[2:]), "line 3: has 39 fields where the header has 38"),
        (lambda h, r: (h.replace("energy_consumed", "energy_used"), r), "lacks the column(s) energy_consumed"),
        (lambda h, r: (h, r[:2] + [r[2].replace(r[2].split(",")[0], "yesterday", 1)]), "line 4, field 'timestamp'"),
        (lambda h, r: (h, [r[0].replace("," + r[0].split(",")[4] + ",", ",-3,", 1)] + r[1:]), "field 'duration'"),
        (lambda h, r: (h, []), "has a header but no rows"),
        (lambda h, r: ("", []), "is empty"),
    ],
)
def test_a_malformed_codecarbon_file_is_refused_whole(codecarbon_csv: Path, tmp_path: Path, store,  # noqa: ANN001
                                                      change, message: str) -> None:  # noqa: ANN001
    header, *lines = codecarbon_csv.read_text().splitlines()
    assert len(header.split(",")) == 38
    new_header, new_lines = change(header, lines)
    broken = write(tmp_path / "emissions.csv", "\n".join([new_header, *new_lines]) + ("\n" if new_header else ""))
    with pytest.raises(ImportFormatError) as caught:
        import_runs(store, "codecarbon", broken)
    assert str(broken) in str(caught.value) and message in str(caught.value)
    assert store.runs(limit=None) == []  # the good rows of the file were not stored either


def test_not_a_codecarbon_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="not a CodeCarbon emissions.csv"):
        read_runs("codecarbon", write(tmp_path / "other.csv", "a,b,c\n1,2,3\n"))
    with pytest.raises(ImportFormatError, match="cannot be read"):
        read_runs("codecarbon", tmp_path / "missing.csv")


# -- Carbontracker -------------------------------------------------------------------------------------------------


def test_carbontracker_logs_agree_with_carbontrackers_own_parser(carbontracker_dir: Path, store) -> None:  # noqa: ANN001
    from carbontracker import parser

    (expected,) = parser.parse_all_logs(str(carbontracker_dir))
    result = import_runs(store, "carbontracker", carbontracker_dir, project="ct")
    (imported,) = result.runs
    run = store.run(imported.run.run_id)
    prefix = Path(expected["standard_filename"]).name[: -len("_carbontracker.log")]
    assert run.run_id == stable_run_id("carbontracker", prefix) and run.project == "ct"
    cpu = expected["components"]["cpu"]
    joules = float(cpu["avg_energy_usages (J)"].sum())
    assert run.energy_j == pytest.approx(joules)
    assert run.duration_s == pytest.approx(float(cpu["epoch_durations (s)"].sum()))
    actual = expected["actual"]
    assert run.facility_energy_j == pytest.approx(actual["energy (kWh)"] * 3.6e6)
    assert run.emissions_g == pytest.approx(actual["co2eq (g)"])
    assert run.pue == pytest.approx(1.58)  # the coefficient its log states
    # the log rounds epoch durations to 10 ms; Carbontracker's own total used the unrounded ones
    assert run.facility_energy_j == pytest.approx(run.energy_j * run.pue, rel=0.02)
    assert run.location is None and "world average" in (run.how_located or "")
    components = store.components(run.run_id)
    # a simulated CPU is a TDP times a load Carbontracker assumed: a model, not a measurement
    assert [(c.component, c.device, c.method) for c in components] == [("cpu", "Simulated Xeon", "model")]
    tasks = store.tasks(run.run_id)
    assert [t.name for t in tasks] == ["epoch 1", "epoch 2"]
    assert [t.energy_j for t in tasks] == pytest.approx(list(cpu["avg_energy_usages (J)"].ravel()))
    intervals = store.intervals(run.run_id)
    assert [i.bucket for i in intervals] == [0, 1]
    assert sum(i.energy_j for i in intervals) == pytest.approx(run.energy_j)
    assert intervals[0].end_offset_s <= intervals[1].start_offset_s
    extra = run.details
    assert extra.imported_from == "carbontracker" and extra.source_run_id == prefix
    assert (extra.source_fields or {})["consumption"]["actual"]["co2eq_g"] == pytest.approx(actual["co2eq (g)"])
    again = import_runs(store, "carbontracker", carbontracker_dir, project="ct")
    assert again.already_stored == (run.run_id,) and len(store.runs(limit=None)) == 1


def copy_logs(source: Path, target: Path) -> tuple[Path, Path]:
    target.mkdir()
    for item in source.iterdir():
        shutil.copy(item, target / item.name)
    std = next(target.glob("*_carbontracker.log"))
    return std, std.with_name(std.name.replace("_carbontracker.log", "_carbontracker_output.log"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda std, out: std.write_text(std.read_text().replace("Duration: 0:00:00.", "Duration: soon ")),
         "'Duration: soon"),
        (lambda std, out: std.write_text(std.read_text().replace("for cpu: 30.0", "for cpu: thirty")),
         "field 'average power for cpu': 'thirty' is not a number"),
        (lambda std, out: std.write_text(std.read_text().replace("for cpu: 30.0", "for cpu: [30.0 30.0]")),
         "2 power value(s) for 1 cpu device(s)"),
        (lambda std, out: std.write_text("\n".join(line for line in std.read_text().splitlines()
                                                   if "components were found" not in line)),
         "power for 'cpu', a component the log did not list"),
        (lambda std, out: out.write_text(out.read_text().replace("\tEnergy:", "\tEnergie:")),
         "lacks its Time, Energy (kWh) or CO2eq (g) lines"),
        (lambda std, out: std.write_text("hello\n" + std.read_text()), "line 1: does not start with"),
    ],
)
def test_a_malformed_carbontracker_log_is_refused_whole(carbontracker_dir: Path, tmp_path: Path, store,  # noqa: ANN001
                                                        edit, message: str) -> None:  # noqa: ANN001
    good = tmp_path / "good"
    copy_logs(carbontracker_dir, good)
    logs = tmp_path / "logs"
    std, out = copy_logs(carbontracker_dir, logs)
    # a second, intact run in the same directory must not be stored either
    for item in good.iterdir():
        shutil.copy(item, logs / item.name.replace("_20", "9_20", 1))
    assert "for cpu: 30.0" in std.read_text()
    edit(std, out)
    with pytest.raises(ImportFormatError) as caught:
        import_runs(store, "carbontracker", logs)
    assert message in str(caught.value)
    assert store.runs(limit=None) == []


def test_a_carbontracker_run_that_never_finished(carbontracker_dir: Path, tmp_path: Path, store) -> None:  # noqa: ANN001
    std, out = copy_logs(carbontracker_dir, tmp_path / "logs")
    std.write_text("\n".join(line for line in std.read_text().splitlines()
                             if "Monitoring thread ended" not in line) + "\n")
    out.unlink()  # killed before Carbontracker wrote its consumption
    (imported,) = import_runs(store, "carbontracker", std).runs
    run = imported.run
    assert run.status == "killed"
    assert run.pue == pytest.approx(1.58) and run.intensity_g_per_kwh is not None
    assert run.emissions_g == pytest.approx(run.energy_j / 3.6e6 * 1.58 * run.intensity_g_per_kwh)
    assert any("computed by wattprint" in note for note in run.notes)


def test_not_a_carbontracker_directory(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="has no Carbontracker log"):
        read_runs("carbontracker", tmp_path)
    with pytest.raises(ImportFormatError, match="no such directory"):
        read_runs("carbontracker", tmp_path / "missing")


# -- the command, and imported runs in reports ---------------------------------------------------------------------


def wattprint(*args: str, store: str) -> subprocess.CompletedProcess:
    return subprocess.run([WATTPRINT, "--store", store, *args], capture_output=True, text=True, timeout=120)


def test_the_import_command(codecarbon_csv: Path, carbontracker_dir: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "cli.sqlite")
    done = wattprint("import", "codecarbon", str(codecarbon_csv), "--json", store=store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["imported"], data["updated"], len(data["runs"])) == (2, 0, 2)
    again = wattprint("import", "codecarbon", str(codecarbon_csv), store=store)
    assert again.returncode == 0 and "0 run(s) imported, 2 already in the store updated" in again.stdout
    text = wattprint("import", "carbontracker", str(carbontracker_dir), "--project", "ct", store=store)
    assert text.returncode == 0 and "1 run(s) imported" in text.stdout
    broken = write(tmp_path / "broken.csv", codecarbon_csv.read_text().replace(",machine,", ",machine,\n", 1))
    refused = wattprint("import", "codecarbon", str(broken), store=store)
    assert refused.returncode == 1 and str(broken) in refused.stderr and "line 2" in refused.stderr
    assert "Traceback" not in refused.stderr
    with open_store(store) as opened:
        assert len(opened.runs(limit=None)) == 3


def test_imported_runs_are_reported_as_imported(codecarbon_csv: Path, carbontracker_dir: Path, store) -> None:  # noqa: ANN001
    import_runs(store, "carbontracker", carbontracker_dir)
    (run,) = store.runs()
    content = run_content(store, run.run_id)
    text = markdown_report(content)
    assert "Recorded by | carbontracker" in text and "imported" in text
    assert "recorded by carbontracker" in text and "world average" in text
    assert "<!DOCTYPE html>" in html_report(content)
    block = co2_eq_emissions(content)
    assert block["emissions"] == pytest.approx(run.emissions_g, rel=1e-5)
    assert "imported from carbontracker" in block["source"]


def test_show_json_of_an_imported_run(codecarbon_csv: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "show.sqlite")
    assert wattprint("import", "codecarbon", str(codecarbon_csv), store=store).returncode == 0
    shown = wattprint("show", "last", "--json", store=store)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["method"] == IMPORTED


# -- values out of range, labels, bulk ---------------------------------------------------------------------------


def replace_field(path: Path, target: Path, line: int, field: str, value: str) -> Path:
    """A copy of a CodeCarbon CSV with one field of one line (2 = first row) changed."""
    with path.open(newline="") as handle:
        table = list(csv.reader(handle))
    table[line - 1][table[0].index(field)] = value
    with target.open("w", newline="") as handle:
        csv.writer(handle).writerows(table)
    return target


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("energy_consumed", "1e308", "above the largest plausible"),
        ("cpu_energy", "1e308", "above the largest plausible"),
        ("emissions", "1e300", "above the largest plausible"),
        ("duration", "1e308", "above the largest plausible"),
        ("cpu_power", "inf", "not a finite number"),
        ("water_consumed", "-1", "below 0"),
        ("pue", "1e308", "above the largest plausible"),
        ("wue", "nan", "not a finite number"),
        ("gpu_count", "1e12", "above the largest plausible"),
        ("timestamp", "9999-01-01T00:00:00", "not between"),
    ],
)
def test_every_imported_field_is_range_checked_with_file_row_and_field_named(
    codecarbon_csv: Path, tmp_path: Path, store, field: str, value: str, message: str,  # noqa: ANN001
) -> None:
    broken = replace_field(codecarbon_csv, tmp_path / "emissions.csv", 3, field, value)
    with pytest.raises(ImportFormatError) as caught:
        import_runs(store, "codecarbon", broken)
    text = str(caught.value)
    assert str(broken) in text and "line 3" in text and f"field {field!r}" in text and message in text
    assert store.runs(limit=None) == []


def test_codecarbon_water_is_not_estimated_when_wue_is_unset_and_the_intensity_is_dated(
    codecarbon_csv: Path, tmp_path: Path, store,  # noqa: ANN001
) -> None:
    result = import_runs(store, "codecarbon", codecarbon_csv)
    for imported in result.runs:
        run = store.run(imported.run.run_id)
        assert run.water_l is None
        assert any("water not estimated" in note for note in run.notes)
        year = int((run.details.source_fields or {})["timestamp"][:4])
        assert run.intensity_year == year
    with_wue = replace_field(codecarbon_csv, tmp_path / "wue.csv", 2, "wue", "1.8")
    with_wue = replace_field(with_wue, with_wue, 2, "water_consumed", "0.25")
    (first, *_) = [r for r in read_runs("codecarbon", with_wue) if r.run.details.line == 2] or [None]
    if first is None:  # the first row is a flush row of a run whose final row comes later: use its final row
        with_wue = replace_field(codecarbon_csv, tmp_path / "wue.csv", 3, "wue", "1.8")
        with_wue = replace_field(with_wue, with_wue, 3, "water_consumed", "0.25")
        (first,) = [r for r in read_runs("codecarbon", with_wue) if r.run.details.line == 3]
    assert first.run.water_l == pytest.approx(0.25)


CARBONTRACKER_GENERIC = """
import time
from carbontracker.tracker import CarbonTracker

# No RAPL here and no simulated CPU: Carbontracker falls back to its generic handler (a TDP from its table)
tracker = CarbonTracker(epochs=1, log_dir={out!r}, components="cpu", update_interval=0.1, verbose=0)
tracker.epoch_start()
end = time.perf_counter() + 0.5
while time.perf_counter() < end:
    sum(range(1000))
tracker.epoch_end()
tracker.stop()
"""


def test_carbontracker_cpu_power_guessed_from_a_tdp_is_a_model(tmp_path: Path, store) -> None:  # noqa: ANN001
    from wattprint.importers import carbontracker

    if os.path.isdir("/sys/class/powercap/intel-rapl:0"):
        pytest.skip("this machine has RAPL: Carbontracker would measure instead of guessing")
    out = tmp_path / "generic"
    produce(CARBONTRACKER_GENERIC, out)
    (imported,) = import_runs(store, "carbontracker", out).runs
    run = store.run(imported.run.run_id)
    (cpu,) = store.components(run.run_id)
    assert cpu.method == "model" and cpu.uncertainty_rel == carbontracker.MODEL_UNCERTAINTY >= 0.4
    assert {i.method for i in store.intervals(run.run_id)} == {"model"}
    assert {t.method for t in store.tasks(run.run_id)} == {"model"}
    assert run.energy_uncertainty_rel == pytest.approx(carbontracker.MODEL_UNCERTAINTY)
    assert any("TDP" in note and "not measured" in note for note in run.notes)


def test_carbontracker_rapl_figures_stay_measured(carbontracker_dir: Path, tmp_path: Path, store) -> None:  # noqa: ANN001
    std, _ = copy_logs(carbontracker_dir, tmp_path / "logs")
    std.write_text(std.read_text().replace("device(s) Simulated Xeon.", "device(s) cpu:0."))
    (imported,) = import_runs(store, "carbontracker", std).runs
    (cpu,) = store.components(imported.run.run_id)
    assert (cpu.device, cpu.method, cpu.uncertainty_rel) == ("cpu:0", IMPORTED, 0.15)


def many_rows(source: Path, target: Path, runs: int) -> Path:
    """The real CodeCarbon file's final row repeated as ``runs`` distinct runs."""
    with source.open(newline="") as handle:
        header, *table = list(csv.reader(handle))
    row = table[-1]
    at = header.index("run_id")
    with target.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for index in range(runs):
            row[at] = str(uuid.UUID(int=index + 1))
            out.writerow(row)
    return target


def test_a_large_import_is_written_in_batches(codecarbon_csv: Path, tmp_path: Path, store) -> None:  # noqa: ANN001
    from sqlalchemy import event

    big = many_rows(codecarbon_csv, tmp_path / "big.csv", 3000)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(store._engine, "before_cursor_execute", count)
    try:
        result = import_runs(store, "codecarbon", big)
        assert len(result.runs) == 3000 and result.already_stored == ()
        assert len(statements) < 100, f"{len(statements)} statements for 3000 runs"
        statements.clear()
        again = import_runs(store, "codecarbon", big)
        assert len(again.already_stored) == 3000
        assert len(statements) < 100, f"{len(statements)} statements to import 3000 runs again"
    finally:
        event.remove(store._engine, "before_cursor_execute", count)
    assert len(store.runs(limit=None)) == 3000
    run = store.run(stable_run_id("codecarbon", str(uuid.UUID(int=1234))))
    assert [c.component for c in store.components(run.run_id)] == ["cpu", "ram"]


def test_the_import_command_lists_a_few_runs_and_counts_the_rest(codecarbon_csv: Path, tmp_path: Path) -> None:
    big = many_rows(codecarbon_csv, tmp_path / "big.csv", 25)
    done = wattprint("import", "codecarbon", str(big), store=str(tmp_path / "cli.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "25 run(s) imported" in done.stdout and "... and 5 more" in done.stdout
    assert len(done.stdout.splitlines()) == 1 + 20 + 1
