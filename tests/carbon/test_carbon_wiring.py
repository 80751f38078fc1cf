"""Carbon in tracker results, the store and the command line: emissions with their sources, every time."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.data import default_pue, lookup_intensity
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


def gpu_run(no_rapl: str, **kwargs: object) -> wattprint.Tracker:
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=200.0)]), powercap_root=no_rapl, **kwargs)


def test_results_carry_emissions_with_the_intensity_and_how_it_was_located(no_rapl: str) -> None:
    with gpu_run(no_rapl, location="FR", pue=1.2) as run:
        with run.task("epoch") as window:
            time.sleep(0.2)
    result = run.result
    assert result is not None and result.footprint is not None
    france = lookup_intensity("FR")
    assert france is not None
    assert result.intensity.zone == "FR" and result.intensity.how_located == "argument"
    assert result.intensity.g_per_kwh == france.intensity_g_per_kwh
    assert result.pue == 1.2
    assert result.facility_energy_kwh == pytest.approx(result.energy_kwh * 1.2)
    assert result.emissions_g == pytest.approx(result.energy_kwh * 1.2 * france.intensity_g_per_kwh)
    # a PUE given by the user carries no uncertainty: energy and intensity combine in quadrature
    expected = (result.uncertainty_rel**2 + result.intensity.uncertainty_rel**2) ** 0.5
    assert result.emissions_uncertainty_rel == pytest.approx(expected)
    assert window.result.emissions_g == pytest.approx(window.result.energy_kwh * 1.2 * france.intensity_g_per_kwh)
    assert [e.key for e in result.equivalents]  # smartphone charges, km by car, ...
    data = result.to_dict()
    assert data["intensity"]["zone"] == "FR" and data["emissions_g"] == pytest.approx(result.emissions_g)
    assert {"facility_energy_kwh", "pue", "emissions_uncertainty_rel", "water_l", "equivalents"} <= set(data)


def test_location_from_the_environment_is_marked_config(no_rapl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_LOCATION", "gcp:europe-west1")
    with gpu_run(no_rapl) as run:
        pass
    intensity = run.result.intensity
    assert intensity.zone == "gcp:europe-west1" and intensity.how_located == "config"
    assert run.result.pue == default_pue("gcp").pue_ratio  # the provider's PUE on a known cloud


def test_unknown_location_is_the_world_average_and_says_so(no_rapl: str) -> None:
    with gpu_run(no_rapl) as run:
        pass
    intensity = run.result.intensity
    assert intensity.how_located == "location unknown" and intensity.zone == "WORLD"
    assert intensity.uncertainty_rel >= 0.5
    assert run.result.emissions_uncertainty_rel >= 0.5


def test_a_location_that_does_not_exist_fails_at_construction(no_rapl: str) -> None:
    with pytest.raises(wattprint.ConfigError, match="FRA?NCE|did you mean"):
        gpu_run(no_rapl, location="Frnace")


def test_the_store_keeps_the_carbon_fields_and_per_interval_emissions(tmp_path: Path, no_rapl: str) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with gpu_run(no_rapl, location="US-CA", store=url) as run:
        time.sleep(0.2)
    assert run.wait_saved(30)
    result = run.result
    with open_store(url) as store:
        record = store.run(result.run_id)
        assert record.intensity_zone == "US-CA" and record.how_located == "argument" and record.location == "US-CA"
        assert record.emissions_g == pytest.approx(result.emissions_g)
        assert record.facility_energy_j == pytest.approx(result.facility_energy_kwh * 3.6e6)
        assert record.pue == result.pue and record.intensity_year == result.intensity.year
        intervals = store.intervals(result.run_id)
        assert sum(i.emissions_g or 0 for i in intervals) == pytest.approx(result.emissions_g, rel=1e-9)
        assert {i.intensity_g_per_kwh for i in intervals} == {result.intensity.g_per_kwh}


def cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def test_run_and_show_json_carry_the_carbon_keys(env: dict[str, str]) -> None:
    code = "import time\nend = time.perf_counter() + 0.3\nwhile time.perf_counter() < end: pass\n"
    data = json.loads(cli("run", "--json", "--location", "DE", "--", sys.executable, "-c", code, env=env).stdout)
    for key in ("facility_energy_kwh", "pue", "emissions_g", "emissions_uncertainty_rel", "water_l", "equivalents"):
        assert key in data
    intensity = data["intensity"]
    assert {"g_per_kwh", "zone", "source", "year", "how_located", "uncertainty_rel"} <= set(intensity)
    assert (intensity["zone"], intensity["how_located"]) == ("DE", "argument")
    assert data["emissions_g"] == pytest.approx(data["facility_energy_kwh"] * intensity["g_per_kwh"])
    assert [e["key"] for e in data["equivalents"]] and all(e["vintage"] for e in data["equivalents"])
    shown = json.loads(cli("show", "last", "--json", env=env).stdout)
    assert shown["emissions_g"] == pytest.approx(data["emissions_g"]) and shown["intensity"] == intensity
    text = cli("show", "last", env=env).stdout
    assert "emissions" in text and "gCO2e/kWh" in text and "Germany" in text
    rows = list(csv.DictReader(io.StringIO(cli("export", env=env).stdout)))
    assert float(rows[0]["emissions_g"]) == pytest.approx(data["emissions_g"])
    assert rows[0]["intensity_zone"] == "DE" and rows[0]["how_located"] == "argument"


def test_an_unknown_location_prints_how_to_set_it(env: dict[str, str]) -> None:
    completed = cli("run", "--", sys.executable, "-c", "pass", env=env)
    assert "location unknown" in completed.stderr
    assert "WATTPRINT_LOCATION" in completed.stderr


def test_regions_lists_and_searches_locations(env: dict[str, str]) -> None:
    found = json.loads(cli("regions", "europe-west1", "--json", env=env).stdout)
    assert found[0]["key"] == "gcp:europe-west1" and found[0]["intensity_g_per_kwh"] > 0
    egrid = json.loads(cli("regions", "--kind", "egrid", "--json", env=env).stdout)
    assert egrid and all(r["kind"] == "egrid" for r in egrid)
    assert any(r["key"] == "egrid:CAMX" for r in egrid)
    everything = json.loads(cli("regions", "--json", env=env).stdout)
    assert {"country", "us-state", "cloud-region", "em-zone", "world"} <= {r["kind"] for r in everything}
    table = cli("regions", "FR", env=env).stdout
    assert "France" in table and "gCO2e/kWh" in table
    bad = cli("regions", "--kind", "planet", env=env, check=False)
    assert bad.returncode == 1 and "kind" in bad.stderr and "cloud-region" in bad.stderr
