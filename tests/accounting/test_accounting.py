"""Energy to footprint: PUE, emissions, water, embodied emissions, SCI, intervals; every total and uncertainty is
checked against arithmetic written out by hand."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint import data
from wattprint.accounting.footprint import (
    Embodied,
    account,
    account_intervals,
    default_pue_for,
    default_wue_for,
    embodied_for,
    pue_for,
)
from wattprint.carbon import Intensity, resolve_location
from wattprint.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def hand_intensity(g_per_kwh: float = 400.0, uncertainty_rel: float = 0.10, zone: str = "XX") -> Intensity:
    """An intensity written by hand, not located anywhere in particular, so no provider default applies."""
    return Intensity(g_per_kwh=g_per_kwh, zone=zone, zone_name="Test zone", source="hand-written", year=2024,
                     kind="average", uncertainty_rel=uncertainty_rel, how_located="argument", licence="none")


# -- one figure ----------------------------------------------------------------------------------------------------


def test_emissions_with_a_given_pue() -> None:
    footprint = account(2.0, 0.05, hand_intensity(), pue=1.5)
    # facility energy = 2.0 kWh x 1.5 = 3.0 kWh; emissions = 3.0 kWh x 400 g/kWh = 1,200 g
    assert footprint.facility_energy_kwh == pytest.approx(3.0)
    assert footprint.facility_energy_j == pytest.approx(3.0 * 3.6e6)
    assert footprint.emissions_g == pytest.approx(1200.0)
    assert footprint.emissions_kg == pytest.approx(1.2)
    # a given PUE carries no uncertainty of its own: u = sqrt(0.05^2 + 0.10^2) = sqrt(0.0125) = 0.111803
    assert footprint.pue_uncertainty_rel == 0.0
    assert footprint.emissions_uncertainty_rel == pytest.approx(0.111803, abs=1e-6)
    assert footprint.facility_energy_uncertainty_rel == pytest.approx(0.05)
    assert footprint.pue_source == "given (pue=1.5)"


def test_emissions_with_the_default_pue_of_an_unknown_data_centre() -> None:
    footprint = account(2.0, 0.05, hand_intensity())
    # no cloud provider -> the industry average 1.56 (Uptime Institute 2024), +-20 %
    assert footprint.pue == pytest.approx(1.56)
    assert "industry average" in footprint.pue_source and "Uptime" in footprint.pue_source
    # emissions = 2.0 x 1.56 x 400 = 1,248 g
    assert footprint.emissions_g == pytest.approx(1248.0)
    # u = sqrt(0.05^2 + 0.20^2 + 0.10^2) = sqrt(0.0025 + 0.04 + 0.01) = sqrt(0.0525) = 0.229129
    assert footprint.emissions_uncertainty_rel == pytest.approx(0.229129, abs=1e-6)
    # facility u = sqrt(0.05^2 + 0.20^2) = sqrt(0.0425) = 0.206155
    assert footprint.facility_energy_uncertainty_rel == pytest.approx(0.206155, abs=1e-6)


def test_the_unknown_location_widens_the_emissions_uncertainty() -> None:
    unknown = resolve_location(reference_year=2025)
    footprint = account(1.0, 0.05, unknown, pue=1.2)
    # 1.0 kWh x 1.2 x world average; u = sqrt(0.05^2 + 0^2 + 0.60^2) = sqrt(0.3625) = 0.602080
    assert footprint.emissions_g == pytest.approx(1.2 * data.world_intensity().intensity_g_per_kwh)
    assert footprint.emissions_uncertainty_rel == pytest.approx(0.602080, abs=1e-6)
    assert any("WATTPRINT_LOCATION" in note for note in footprint.notes)
    assert footprint.record_fields()["location"] is None
    assert footprint.record_fields()["how_located"] == "location unknown"


# -- PUE and WUE defaults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "provider", "region"),
    [("gcp:europe-west1", "gcp", "europe-west1"), ("gcp:asia-south1", "gcp", None), ("aws:us-east-1", "aws", None),
     ("azure:westeurope", "azure", None)],
)
def test_a_cloud_region_gets_its_provider_pue(location: str, provider: str, region: str | None) -> None:
    expected = data.default_pue(provider, region)
    assert expected.provider == provider
    value, source, uncertainty = pue_for(resolve_location(location))
    assert value == expected.pue_ratio
    assert source.startswith(provider + (f" {region}" if region else "") + " default")
    assert expected.source in source
    assert uncertainty == pytest.approx(0.05)


def test_a_cloud_without_a_published_pue_gets_the_industry_default_and_says_so() -> None:
    value, source = default_pue_for(resolve_location("scaleway:paris"))
    assert value == data.default_pue("unknown").pue_ratio == pytest.approx(1.56)
    assert "scaleway publishes no PUE" in source


def test_a_given_pue_wins_and_is_checked() -> None:
    assert default_pue_for(resolve_location("gcp:europe-west1"), 1.3) == (1.3, "given (pue=1.3)")
    for bad in (0.9, 3.5, float("nan"), "1.2"):
        with pytest.raises(ConfigError, match="pue"):
            account(1.0, 0.05, hand_intensity(), pue=bad)  # type: ignore[arg-type]


def test_water_uses_the_provider_wue_and_none_is_invented_elsewhere() -> None:
    gcp = account(2.0, 0.05, resolve_location("gcp:europe-west1"))
    wue = data.default_wue("gcp")
    assert wue is not None
    # water = IT energy x WUE = 2.0 kWh x 1.15 L/kWh = 2.3 L
    assert gcp.wue_l_per_kwh == wue.wue_l_per_kwh == pytest.approx(1.15)
    assert gcp.water_l == pytest.approx(2.3)
    assert str(wue.year) in gcp.wue_source
    local = account(2.0, 0.05, resolve_location("FR"))
    assert local.water_l is None and local.wue_l_per_kwh is None
    assert any("water not estimated" in note for note in local.notes)
    assert default_wue_for(resolve_location("ovh:gra"))[0] is None  # OVH publishes no WUE in the table
    given = account(2.0, 0.05, resolve_location("FR"), wue=0.5)
    assert given.water_l == pytest.approx(1.0)


# -- embodied emissions and SCI ------------------------------------------------------------------------------------


def test_embodied_emissions_of_a_gpu_server_by_hand() -> None:
    embodied = embodied_for(gpus=8, cpus=2, memory_gb=512)
    # 1,000 (base: 1 CPU, 16 GB) + 1 x 100 (second CPU) + (512 - 16) x 1.388 (DRAM) + 8 x 150 (GPU cards)
    # = 1,000 + 100 + 688.448 + 1,200 = 2,988.448 kgCO2e over 4 years
    assert embodied.total_kg == pytest.approx(2988.448)
    assert embodied.lifetime_years == 4
    # per hour: 2,988,448 g / (4 x 8,760 h) = 2,988,448 / 35,040 = 85.2868 g/h
    assert embodied.g_per_hour == pytest.approx(85.286758, abs=1e-5)
    assert embodied.grams_for(1800) == pytest.approx(42.643379, abs=1e-5)
    # 35,040 hours is Cloud Carbon Footprint's own lifespan constant
    hours = data.constant("embodied.server_lifespan_hours.ccf").value
    assert embodied.grams_for(hours * 3600) == pytest.approx(embodied.total_kg * 1000)


def test_embodied_small_machine_share_and_gpu_override() -> None:
    # a VM using a quarter of a 1-CPU, 8 GB host: 1,000 kg x 0.25 over 35,040 h = 7.1347 g/h
    vm = embodied_for(cpus=1, memory_gb=8, share=0.25)
    assert vm.total_kg == pytest.approx(1000.0)
    assert vm.g_per_hour == pytest.approx(250_000 / 35_040)
    a100 = data.constant("embodied.a100_gpu_kg_co2e").value
    assert embodied_for(gpus=2, gpu_kg_each=a100).total_kg == pytest.approx(1000 + 2 * 318)
    with pytest.raises(ConfigError):
        embodied_for(gpus=-1)
    with pytest.raises(ConfigError):
        Embodied(total_kg=100, lifetime_years=4, share=1.5)


def test_sci_per_epoch_with_embodied_emissions() -> None:
    embodied = embodied_for(gpus=8, cpus=2, memory_gb=512)
    footprint = account(2.0, 0.05, hand_intensity(), pue=1.5, embodied=embodied, duration_s=1800,
                        functional_units=10, functional_unit="epoch")
    # operational 1,200 g (above) + embodied 42.6434 g = 1,242.6434 g over 10 epochs = 124.26434 g per epoch
    assert footprint.embodied_g == pytest.approx(42.643379, abs=1e-5)
    assert footprint.total_g == pytest.approx(1242.643379, abs=1e-5)
    assert footprint.sci_g_per_unit == pytest.approx(124.2643379, abs=1e-6)
    assert footprint.functional_unit == "epoch"
    # absolute: operational 1,200 x 0.111803 = 134.164; embodied 42.6434 x 0.5 = 21.3217
    # sqrt(134.164^2 + 21.3217^2) = sqrt(18,000.0 + 454.61) = 135.848 -> 135.848 / 1,242.643 = 0.109322
    assert footprint.sci_uncertainty_rel == pytest.approx(0.109322, abs=1e-5)


def test_sci_per_thousand_inferences_without_embodied_says_so() -> None:
    footprint = account(0.5, 0.05, hand_intensity(), pue=1.0, functional_units=25_000 / 1000,
                        functional_unit="1,000 inferences")
    # 0.5 kWh x 1.0 x 400 g/kWh = 200 g over 25 thousand inferences = 8 g per 1,000 inferences
    assert footprint.sci_g_per_unit == pytest.approx(8.0)
    assert footprint.embodied_g is None
    assert any("M = 0" in note for note in footprint.notes)


def test_no_sci_unless_asked_and_embodied_needs_a_duration() -> None:
    footprint = account(1.0, 0.05, hand_intensity())
    assert footprint.sci_g_per_unit is None and footprint.functional_unit is None
    with pytest.raises(ConfigError, match="duration_s"):
        account(1.0, 0.05, hand_intensity(), embodied=embodied_for())
    with pytest.raises(ConfigError, match="functional_units"):
        account(1.0, 0.05, hand_intensity(), functional_units=0)
    with pytest.raises(ConfigError, match="energy_kwh"):
        account(-1.0, 0.05, hand_intensity())
    with pytest.raises(ConfigError, match="energy_kwh"):
        account(float("inf"), 0.05, hand_intensity())


# -- intervals -----------------------------------------------------------------------------------------------------


def test_intervals_are_priced_each_with_the_intensity_of_its_time() -> None:
    by_hour = {0: hand_intensity(100.0), 1: hand_intensity(200.0), 2: hand_intensity(400.0)}
    asked: list[float] = []

    def intensity_at(t: float) -> Intensity:
        asked.append(t)
        return by_hour[int(t // 3600)]

    intervals = [(0.0, 3600.0, 1.0, 0.05), (3600.0, 7200.0, 1.0, 0.05), (7200.0, 10800.0, 2.0, 0.10)]
    result = account_intervals(intervals, intensity_at, pue=1.0)
    assert asked == [1800.0, 5400.0, 9000.0]  # the midpoints
    # emissions: 1 x 100 + 1 x 200 + 2 x 400 = 100 + 200 + 800 = 1,100 g
    assert [part.emissions_g for part in result.intervals] == pytest.approx([100.0, 200.0, 800.0])
    total = result.total
    assert total.emissions_g == pytest.approx(1100.0)
    assert total.energy_kwh == pytest.approx(4.0)
    # energy errors correlated: (1 x 0.05 + 1 x 0.05 + 2 x 0.10) / 4 = 0.3 / 4 = 0.075
    assert total.energy_uncertainty_rel == pytest.approx(0.075)
    # emissions: energy part 100 x 0.05 + 200 x 0.05 + 800 x 0.10 = 5 + 10 + 80 = 95 g;
    # intensity part (correlated) 0.10 x 1,100 = 110 g; PUE given: 0
    # sqrt(95^2 + 110^2) = sqrt(9,025 + 12,100) = sqrt(21,125) = 145.344 g -> 145.344 / 1,100 = 0.132131
    assert total.emissions_uncertainty_rel == pytest.approx(0.132131, abs=1e-6)
    # the run's intensity is the energy-weighted mean: 1,100 g / 4 kWh = 275 g/kWh
    assert total.intensity.g_per_kwh == pytest.approx(275.0)
    assert total.intensity.uncertainty_rel == pytest.approx(0.10)
    assert any("energy-weighted mean of 3" in note for note in total.intensity.notes)


def test_one_interval_is_the_same_as_account() -> None:
    intensity = resolve_location("gcp:europe-west1")
    embodied = embodied_for(gpus=1)
    single = account_intervals([(100.0, 1900.0, 0.7, 0.08)], intensity, embodied=embodied,
                               functional_units=3, functional_unit="epoch").total
    direct = account(0.7, 0.08, intensity, embodied=embodied, duration_s=1800.0, functional_units=3,
                     functional_unit="epoch")
    for name, value in direct.to_dict().items():
        other = single.to_dict()[name]
        if isinstance(value, float):
            assert other == pytest.approx(value, rel=1e-12), name
        else:
            assert other == value, name


def test_static_intervals_with_equal_uncertainty_add_up_like_one() -> None:
    intensity = hand_intensity()
    parts = account_intervals([(0, 10, 0.25, 0.05), (10, 20, 0.75, 0.05)], intensity, pue=1.2).total
    whole = account(1.0, 0.05, intensity, pue=1.2)
    assert parts.emissions_g == pytest.approx(whole.emissions_g) == pytest.approx(480.0)
    assert parts.emissions_uncertainty_rel == pytest.approx(whole.emissions_uncertainty_rel)
    assert parts.intensity is intensity


def test_no_intervals_is_zero_and_bad_intervals_are_errors() -> None:
    empty = account_intervals([], hand_intensity(), pue=1.1)
    assert empty.total.emissions_g == 0.0 and empty.intervals == ()
    with pytest.raises(ConfigError, match="end_s"):
        account_intervals([(10.0, 5.0, 1.0, 0.05)], hand_intensity())
    with pytest.raises(ConfigError, match="interval 0"):
        account_intervals([(1.0, 2.0)], hand_intensity())  # type: ignore[list-item]


# -- what gets stored ----------------------------------------------------------------------------------------------


def test_record_fields_match_the_run_record_and_json_round_trips() -> None:
    footprint = account(1.5, 0.1, resolve_location("aws:us-east-1"), embodied=embodied_for(), duration_s=60)
    fields = footprint.record_fields()
    assert set(fields) == {
        "location", "how_located", "intensity_g_per_kwh", "intensity_zone", "intensity_source", "intensity_year",
        "intensity_kind", "intensity_uncertainty_rel", "pue", "facility_energy_j", "emissions_g",
        "emissions_uncertainty_rel", "water_l", "embodied_g",
    }
    assert fields["location"] == "aws:us-east-1"
    assert fields["intensity_year"] is None  # CCF does not date its factors
    assert fields["facility_energy_j"] == pytest.approx(1.5 * footprint.pue * 3.6e6)
    assert json.loads(json.dumps(footprint.to_dict()))["intensity"]["zone"] == "aws:us-east-1"


def test_accounting_imports_no_hardware_sensor_or_tracker_module() -> None:
    code = (
        "import sys, wattprint.accounting.footprint, wattprint.accounting.equivalents\n"
        "bad = [m for m in sys.modules if m.startswith(('wattprint.hardware', 'wattprint.sensors', "
        "'wattprint.run.tracker', 'wattprint.measure.meter', 'wattprint.store'))]\n"
        "assert not bad, bad\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


# -- the documentation's examples run ------------------------------------------------------------------------------

CARBON_DOC = (ROOT / "docs" / "carbon.md").read_text()
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", CARBON_DOC, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_carbon_doc_examples_run(index: int, tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, "-c", DOC_BLOCKS[index]], cwd=tmp_path, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_carbon_doc_states_the_uncertainties_the_code_uses() -> None:
    from wattprint.carbon import intensity as rules

    for value in (rules.UNKNOWN_LOCATION_UNCERTAINTY, rules.UNDATED_UNCERTAINTY, rules.CLOUD_CCF_UNCERTAINTY):
        assert f"{value * 100:.0f} %" in CARBON_DOC
    assert math.isclose(rules.AGE_UNCERTAINTY_PER_YEAR, 0.03) and "3 % per year" in CARBON_DOC


def test_carbon_doc_lists_every_default_pue_and_wue() -> None:
    for pue in data.pue_records():
        if pue.is_default:
            assert f"{pue.pue_ratio:g}" in CARBON_DOC, pue
    for provider in ("aws", "azure", "gcp", "unknown"):
        wue = data.default_wue(provider)
        assert wue is not None and f"{wue.wue_l_per_kwh:g}" in CARBON_DOC, provider
