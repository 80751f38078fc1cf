"""One shape per concept: the intensity object of every JSON output, and a run's ``extra`` written in the shape
before the wire format (``intensity_name``) still read back from a real store."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from tests.fakes.pg import make_components, make_run, run_id
from wattprint.api.records import IntensityRecord, RunExtra
from wattprint.core.codec import to_dict
from wattprint.report.summary import run_json, run_text
from wattprint.store import open_store

CARBON = dict(location="FR", how_located="argument", intensity_g_per_kwh=44.0, intensity_zone="FR",
              intensity_source="Ember yearly", intensity_year=2024, intensity_kind="average",
              intensity_uncertainty_rel=0.1, pue=1.2, facility_energy_j=14_814.8, emissions_g=0.18,
              emissions_uncertainty_rel=0.11, water_l=0.01)
INTENSITY_KEYS = [f.name for f in dataclasses.fields(IntensityRecord)]


def test_a_run_stored_in_the_old_extra_shape_reads_back_with_the_one_intensity_shape(tmp_path: Path) -> None:
    old_extra = {"pue_source": "Uptime Institute 2024", "wue_l_per_kwh": None, "wue_source": None,
                 "intensity_name": "France", "intensity_licence": "CC-BY-4.0", "carbon_notes": ["a carbon note"],
                 "written_by_someone_else": True}
    path = tmp_path / "runs.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        store.save(make_run(run_id(1, 1), **CARBON), make_components())
    with sqlite3.connect(path) as connection:  # the column as a writer before the wire format left it
        connection.execute("UPDATE runs SET extra = ?", (json.dumps(old_extra),))
    with open_store(f"sqlite:///{path}") as store:
        record = store.run(run_id(1, 1))
        components = store.components(run_id(1, 1))
    assert isinstance(record.extra, RunExtra) and record.extra.pue_source == "Uptime Institute 2024"
    details = record.details
    assert details.intensity_zone_name == "France" and details.carbon_notes == ("a carbon note",)
    data = json.loads(json.dumps(run_json(record, components)))
    assert list(data["intensity"]) == INTENSITY_KEYS
    assert data["intensity"]["zone_name"] == "France" and data["intensity"]["zone"] == "FR"
    assert data["pue_source"] == "Uptime Institute 2024"
    assert "(France; Ember yearly, 2024; argument)" in run_text(record, components)


def test_a_run_written_now_keeps_the_new_name() -> None:
    run = make_run(run_id(1, 2), extra=RunExtra(intensity_zone_name="France"), **CARBON)
    assert to_dict(run)["extra"] == {"intensity_zone_name": "France"}  # stored sparse: only what it has
    assert run_json(run, make_components())["intensity"]["zone_name"] == "France"


def test_without_carbon_the_intensity_is_null() -> None:
    assert run_json(make_run(run_id(1, 3)), make_components())["intensity"] is None


def test_an_estimate_and_an_intensity_use_the_same_names() -> None:
    from wattprint.carbon import Intensity
    from wattprint.plan.estimate import intensity_json

    intensity = Intensity(g_per_kwh=44.0, zone="FR", zone_name="France", source="Ember", year=2024, kind="average",
                          uncertainty_rel=0.1, how_located="argument", licence="CC-BY-4.0")
    assert list(intensity_json(intensity)) == INTENSITY_KEYS
    assert intensity_json(intensity)["zone_name"] == "France"
    full = intensity.to_dict()
    assert {k: full[k] for k in INTENSITY_KEYS} == intensity_json(intensity)  # a superset under the same names
