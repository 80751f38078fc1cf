"""The CSV log in CodeCarbon's shape: its columns are those of the installed CodeCarbon, a row per ended run, read
back by CodeCarbon-reading code (our own importer) with the run's figures; an older file keeps its own header."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from codecarbon.output_methods.emissions_data import EmissionsData

from wattprint import sinks
from wattprint.core.results import RunResult
from wattprint.core.units import J_PER_KWH
from wattprint.exporters.csvlog import CODECARBON_COLUMNS, CsvLogSink
from wattprint.importers.codecarbon import read_codecarbon


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_columns_are_codecarbons_in_its_order() -> None:
    assert tuple(field.name for field in dataclasses.fields(EmissionsData)) == CODECARBON_COLUMNS


def test_a_row_per_ended_run_that_codecarbon_readers_read_back(tmp_path: Path,
                                                               tracked: Callable[..., RunResult]) -> None:
    path = tmp_path / "emissions.csv"
    sink = sinks.attach(CsvLogSink(path))
    try:
        first, second = tracked(epochs=1), tracked(epochs=2)
    finally:
        sinks.detach(sink)
    written = rows(path)
    assert [r["run_id"] for r in written] == [first.run_id, second.run_id]  # one row each, none while running
    row, footprint = written[0], first.footprint
    assert footprint is not None and first.emissions_g is not None
    pue = footprint.pue
    assert float(row["energy_consumed"]) == pytest.approx(first.energy_j * pue / J_PER_KWH, rel=1e-9)
    gpu_j = sum(d.energy_j for d in first.devices if d.component == "gpu")
    assert float(row["gpu_energy"]) == pytest.approx(gpu_j * pue / J_PER_KWH, rel=1e-9)
    assert float(row["gpu_power"]) == pytest.approx(200.0, rel=0.25)  # 120 W + 80 W
    assert float(row["emissions"]) == pytest.approx(first.emissions_g / 1000.0, rel=1e-9)
    assert (row["country_iso_code"], row["country_name"], row["on_cloud"]) == ("FRA", "France", "N")
    assert row["gpu_count"] == "2" and row["tracking_mode"] == "machine" and row["project_name"] == "exp"
    assert row["wattprint_method"] == "cpu=model, gpu=counter, ram=model"

    imported = read_codecarbon(path)  # code written for CodeCarbon's file reads ours
    assert len(imported) == 2
    for result, run in zip((first, second), imported, strict=True):
        assert run.run.extra is not None and run.run.details.source_run_id == result.run_id
        assert run.run.energy_j == pytest.approx(result.energy_j, rel=1e-9)
        assert run.run.emissions_g == pytest.approx(result.emissions_g, rel=1e-9)
        assert run.run.location == "FR"


def test_an_existing_file_keeps_its_header(tmp_path: Path, tracked: Callable[..., RunResult]) -> None:
    older = ("timestamp", "project_name", "run_id", "duration", "emissions", "energy_consumed", "country_iso_code",
             "cpu_energy", "gpu_energy", "ram_energy", "an_old_column")
    path = tmp_path / "emissions.csv"
    path.write_text(",".join(older) + "\n2024-01-01T00:00:00,old,r1,10,0.001,0.01,FRA,0.005,0.004,0.001,x\n")
    sink = sinks.attach(CsvLogSink(path))
    try:
        result = tracked(epochs=1)
    finally:
        sinks.detach(sink)
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(older) and len(lines) == 3
    row = rows(path)[1]
    assert row["run_id"] == result.run_id and row["an_old_column"] == "" and row["country_iso_code"] == "FRA"
    assert float(row["duration"]) == pytest.approx(result.duration_s)


def test_the_sink_is_in_the_registry() -> None:
    assert sinks.sink_class("csv-log") is CsvLogSink
