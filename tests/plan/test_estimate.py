"""The calculator: hand-checked estimates, the published calculators' arithmetic, re-priced runs, the command."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.accounting.footprint import PROVIDER_PUE_UNCERTAINTY, UNKNOWN_PUE_UNCERTAINTY
from wattprint.carbon import HOW_UNKNOWN, resolve_location
from wattprint.core.errors import ConfigError
from wattprint.data import default_pue, default_wue, lookup_intensity
from wattprint.plan.estimate import HOW_GIVEN, Estimate, estimate, estimate_run
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
ROOT = Path(__file__).resolve().parents[2]


def test_eight_gpus_in_a_cloud_region_by_hand() -> None:
    result = estimate(gpu="A100 SXM4 80GB", count=8, hours=24, location="gcp:europe-west4")
    assert result.energy_kwh == pytest.approx(8 * 400 * 24 / 1000)  # 76.8 kWh: the table's 400 W, at TDP
    pue = default_pue("gcp", "europe-west4").pue_ratio
    grid = resolve_location("gcp:europe-west4")
    assert result.pue == pue
    assert result.facility_energy_kwh == pytest.approx(76.8 * pue)
    assert result.emissions_g == pytest.approx(76.8 * pue * grid.g_per_kwh)
    assert result.water_l == pytest.approx(76.8 * default_wue("gcp").wue_l_per_kwh)
    assert result.energy_uncertainty_rel == pytest.approx(0.40)
    assert result.emissions_uncertainty_rel == pytest.approx(
        math.sqrt(0.40**2 + PROVIDER_PUE_UNCERTAINTY**2 + grid.uncertainty_rel**2)
    )
    (part,) = result.parts
    assert (part.component, part.count, part.tdp_w, part.utilization, part.method) == ("gpu", 8, 400.0, 1.0, "model")
    assert result.intensity.how_located == "argument"
    assert {e.key for e in result.equivalents} >= {"car_km", "smartphone_charges"}
    assert any("utilisation 100%" in a for a in result.assumptions)
    assert any(a.startswith("PUE") and "gcp" in a for a in result.assumptions)


def test_ml_co2_impact_arithmetic() -> None:
    """Its calculator: GPU TDP x hours = kWh, x kg/kWh (rounded to two decimals), no PUE."""
    tdp_w, hours, kg_per_kwh = 300.0, 100.0, 0.43  # Tesla V100-SXM2-32GB in its gpus.csv; 430 g/kWh
    published_kg = round(tdp_w * hours / 1000, 2) * kg_per_kwh
    by_name = estimate(gpu="Tesla V100-SXM2-32GB", hours=hours, pue=1, intensity=430)
    by_power = wattprint.estimate(power_w=tdp_w, hours=hours, pue=1, intensity=430)
    for result in (by_name, by_power):
        assert result.energy_kwh == pytest.approx(30.0)
        assert result.emissions_g / 1000 == pytest.approx(published_kg)
        assert result.emissions_g == pytest.approx(12_900.0)
    assert by_power.parts[0].method == "given" and by_power.energy_uncertainty_rel == pytest.approx(0.10)


def test_green_algorithms_arithmetic() -> None:
    """E = t x (n_c x P_c x u_c + n_m x P_m) x PUE x 0.001; C = E x CI (Lannelongue et al. 2021)."""
    t, n_c, u_c, n_m, p_m, pue, ci = 12.0, 12, 0.8, 64.0, 0.3725, 1.67, 475.0
    p_c = 120.0 / 16  # Xeon E5-2683 v4: TDP 120 W, 16 cores
    energy = t * (n_c * p_c * u_c + n_m * p_m) * pue * 0.001
    result = estimate(cpu="Xeon E5-2683 v4", cpu_cores=n_c, utilization=u_c, memory_gb=n_m, hours=t, pue=pue,
                      intensity=ci)
    assert result.facility_energy_kwh == pytest.approx(energy)
    assert result.emissions_g == pytest.approx(energy * ci)
    cpu, ram = result.parts
    assert cpu.power_w == pytest.approx(12 * 7.5 * 0.8) and cpu.uncertainty_rel == pytest.approx(0.5)
    assert ram.power_w == pytest.approx(64 * 0.3725) and ram.utilization is None
    # parts are independent: absolute uncertainties add in quadrature
    expected = math.hypot(cpu.energy_kwh * 0.5, ram.energy_kwh * 0.5) / result.energy_kwh
    assert result.energy_uncertainty_rel == pytest.approx(expected)
    # the given intensity and PUE carry no uncertainty of their own
    assert result.intensity.how_located == HOW_GIVEN and result.intensity.uncertainty_rel == 0
    assert result.emissions_uncertainty_rel == pytest.approx(expected)


def test_gpus_and_cpus_together_with_their_own_counts_and_utilisations() -> None:
    result = estimate(gpu="T4", count=4, cpu="Xeon Gold 6248", cpu_count=2, gpu_utilization=0.5,
                      cpu_utilization=0.25, hours=10, location="FR")
    gpu, cpu = result.parts
    assert (gpu.count, gpu.power_w) == (4, pytest.approx(4 * 70 * 0.5))
    assert (cpu.count, cpu.power_w) == (2, pytest.approx(2 * 150 * 0.25))
    assert result.energy_kwh == pytest.approx((140 + 75) * 10 / 1000)
    assert result.power_w == pytest.approx(215)
    # no cloud: the industry-average PUE with its wide uncertainty, and no invented water
    assert result.pue == pytest.approx(default_pue(None).pue_ratio)
    assert result.footprint.pue_uncertainty_rel == UNKNOWN_PUE_UNCERTAINTY
    assert result.water_l is None
    # count applies to the CPU when no GPU is named
    assert estimate(cpu="Xeon Gold 6248", count=2, hours=1, location="FR").parts[0].count == 2


def test_a_given_intensity_at_a_named_location_keeps_its_provider_pue() -> None:
    result = estimate(power_w=100, hours=10, location="aws:us-east-1", intensity=200, intensity_uncertainty_rel=0.1)
    assert result.intensity.how_located == HOW_GIVEN and result.intensity.g_per_kwh == 200
    assert result.intensity.provider == "aws" and result.pue == default_pue("aws").pue_ratio
    assert result.emissions_g == pytest.approx(1.0 * result.pue * 200)
    assert any("intensity given" in note for note in result.intensity.notes)


def test_without_a_location_the_world_average_is_marked_unknown() -> None:
    result = estimate(power_w=100, hours=1)
    assert result.intensity.how_located == HOW_UNKNOWN
    assert result.intensity.g_per_kwh == lookup_intensity("WORLD").intensity_g_per_kwh
    assert result.to_dict()["location"] is None
    assert any("Location unknown" in note for note in result.footprint.notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gpu": "A100", "hours": 1}, "'A100 SXM4 80 GB' (400 W)"),
        ({"gpu": "Quantum Accelerator 9000", "hours": 1}, "not in the GPU TDP table"),
        ({"cpu": "Xeon Gold 6284X", "hours": 1}, "close names"),
        ({"cpu": "Xeon Platinum 8280", "cpu_cores": 8, "hours": 1}, "no core count"),
        ({"gpu": "T4", "power_w": 70, "hours": 1}, "power_w replaces a model name"),
        ({"power_w": 70, "utilization": 0.5, "hours": 1}, "already the average draw"),
        ({"gpu": "T4", "utilization": 80, "hours": 1}, "0.8 for 80 %"),
        ({"gpu": "T4"}, "hours= or duration_s="),
        ({"hours": 1}, "nothing to estimate"),
        ({"gpu": "T4", "count": 0, "hours": 1}, "count must be a whole number"),
        ({"gpu_count": 2, "power_w": 5, "hours": 1}, "gpu_count needs gpu="),
        ({"gpu": "T4", "hours": 1, "location": "Atlantis"}, "not a known location"),
        ({"gpu": "T4", "hours": 1, "pue": 0.5}, "pue must be between"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        estimate(**kwargs)


def test_wattprint_estimate_is_the_function() -> None:
    assert wattprint.estimate(power_w=10, hours=2, intensity=100, pue=1).emissions_g == pytest.approx(2.0)
    assert "estimate" in wattprint.__all__


def _stored_run(tmp_path: Path, no_rapl: str) -> str:
    store = str(tmp_path / "runs.sqlite")
    with wattprint.track(project="price", location="PL", store=store, nvml=FakeNvml([FakeGpu(power_w=250.0)]),
                         powercap_root=no_rapl, interval_s=0.05) as run:
        with run.task("work"):
            sum(i * i for i in range(200_000))
    assert run.wait_saved(timeout=30)
    return store


def test_a_measured_run_repriced_elsewhere(tmp_path: Path, no_rapl: str) -> None:
    store_url = _stored_run(tmp_path, no_rapl)
    with open_store(store_url) as store:
        record = store.run("last")
        components = store.components(record.run_id)
    result = estimate_run(record, components, location="SE3", pue=1.2)
    energy = record.energy_j / 3.6e6
    grid = resolve_location("SE3")
    assert result.energy_kwh == pytest.approx(energy)
    assert result.energy_uncertainty_rel == pytest.approx(record.energy_uncertainty_rel)
    assert result.emissions_g == pytest.approx(energy * 1.2 * grid.g_per_kwh)
    assert result.duration_s == pytest.approx(record.duration_s)
    assert result.measured is not None and result.measured["location"] == "PL"
    assert result.measured["emissions_g"] == pytest.approx(record.emissions_g)
    assert {p.component for p in result.parts} == {c.component for c in components}
    assert sum(p.energy_kwh for p in result.parts) == pytest.approx(energy)
    gpu = next(p for p in result.parts if p.component == "gpu")
    assert gpu.method == "counter" and gpu.model == "NVIDIA H100 80GB HBM3"
    # without a location, the run's own: the same figure as measured, since the tables are the same
    same = estimate_run(record, components)
    assert same.emissions_g == pytest.approx(record.emissions_g, rel=1e-9)


def wattprint_cli(*args: str, store: str | None = None) -> subprocess.CompletedProcess:
    env_args = ["--store", store] if store else []
    return subprocess.run([WATTPRINT, *env_args, *args], capture_output=True, text=True, timeout=120)


def test_the_command_prints_the_keys_of_show_json() -> None:
    done = wattprint_cli("estimate", "--gpu", "A100 SXM4 80GB", "--count", "2", "--memory-gb", "128", "--hours", "5",
                         "--location", "gcp:europe-west1", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    show_keys = {"energy_kwh", "facility_energy_kwh", "pue", "emissions_g", "emissions_uncertainty_rel", "water_l",
                 "intensity", "equivalents"}
    assert show_keys <= set(data)
    assert set(data["intensity"]) == {"g_per_kwh", "zone", "zone_name", "source", "year", "kind", "how_located",
                                      "uncertainty_rel"}
    library = estimate(gpu="A100 SXM4 80GB", count=2, memory_gb=128, hours=5, location="gcp:europe-west1")
    assert data["emissions_g"] == pytest.approx(library.emissions_g)
    assert data["energy_kwh"] == pytest.approx((2 * 400 + 128 * 0.3725) * 5 / 1000)
    assert [c["component"] for c in data["components"]] == ["gpu", "ram"]
    assert data["assumptions"] and "PUE" in data["formula"]

    text = wattprint_cli("estimate", "--power-w", "300", "--hours", "100", "--intensity", "430", "--pue", "1")
    assert text.returncode == 0, text.stderr
    assert "12.9 kg CO2e" in text.stdout and "30 kWh" in text.stdout


def test_the_command_explains_bad_input() -> None:
    ambiguous = wattprint_cli("estimate", "--gpu", "A100", "--hours", "1")
    assert ambiguous.returncode == 1 and "several rows" in ambiguous.stderr and "Traceback" not in ambiguous.stderr
    no_hours = wattprint_cli("estimate", "--gpu", "T4")
    assert no_hours.returncode == 1 and "--hours" in no_hours.stderr
    helped = wattprint_cli("estimate", "--help")
    assert "examples:" in helped.stdout and "--from-run" in helped.stdout


def test_the_command_reprices_a_stored_run(tmp_path: Path, no_rapl: str) -> None:
    store = _stored_run(tmp_path, no_rapl)
    done = wattprint_cli("estimate", "--from-run", "last", "--location", "FR", "--json", store=store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    with open_store(store) as opened:
        record = opened.run("last")
    assert data["run_id"] == record.run_id and data["intensity"]["zone"] == "FR"
    assert data["energy_kwh"] == pytest.approx(record.energy_j / 3.6e6)
    assert data["measured"]["location"] == "PL"
    mixed = wattprint_cli("estimate", "--from-run", "last", "--gpu", "T4", store=store)
    assert mixed.returncode == 1 and "--gpu cannot be used" in mixed.stderr


def test_the_documented_examples_run(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "estimate.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kg CO2e" in done.stdout and "greenest in Europe" in done.stdout


def test_an_estimate_is_plain_data() -> None:
    result = estimate(gpu="T4", hours=1, location="FR")
    assert isinstance(result, Estimate)
    json.dumps(result.to_dict())
    with pytest.raises(AttributeError):
        result.energy_kwh = 0  # type: ignore[misc]


# -- CPU look-up: stated wattage, core counts beyond the model, sources that disagree ------------------------------


def test_a_wattage_stated_in_the_cpu_name_wins_over_the_table() -> None:
    from wattprint.data import lookup_cpu

    stated = lookup_cpu("AMD Phenom II X4 955 (95W)")
    assert stated is not None and stated.tdp_w == 95.0 and "name" in stated.source
    assert lookup_cpu("AMD Phenom II X4 955 (125W)").tdp_w == 125.0
    result = estimate(cpu="AMD Phenom II X4 955 (95W)", hours=1, intensity=100)
    assert result.parts[0].tdp_w == 95.0
    assert result.energy_kwh == pytest.approx(0.095)


def test_more_cores_than_the_model_has_is_said_not_silently_doubled() -> None:
    result = estimate(cpu="Core i5-10600K", cpu_cores=12, hours=1, intensity=100)  # a 6-core model
    (part,) = result.parts
    assert part.power_w == pytest.approx(2 * part.tdp_w)  # priced as two CPUs' worth of cores...
    said = [a for a in result.assumptions if "12 cores" in a and "6" in a]
    assert len(said) == 1 and "2 CPUs" in said[0]  # ...and the estimate says so
    assert said[0] in result.to_dict()["assumptions"]
    within = estimate(cpu="Core i5-10600K", cpu_cores=3, hours=1, intensity=100)
    assert not [a for a in within.assumptions if "cores" in a and "more than" in a]


def test_when_sources_disagree_on_a_tdp_the_estimate_shows_the_alternative_and_its_choice() -> None:
    result = estimate(cpu="Core i5-10600K", hours=1, intensity=100)
    (part,) = result.parts
    assert part.tdp_w == 125.0
    assert part.alternative_tdps == ({"source": "Green Algorithms", "tdp_w": 95.0},)
    said = [a for a in result.assumptions if "95 W" in a and "125 W" in a]
    assert len(said) == 1 and "Green Algorithms" in said[0] and "chose" in said[0]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["components"][0]["alternative_tdps"] == [{"source": "Green Algorithms", "tdp_w": 95.0}]


def test_the_command_shows_the_alternative_tdp() -> None:
    done = wattprint_cli("estimate", "--cpu", "Core i5-10600K", "--hours", "1", "--intensity", "100")
    assert done.returncode == 0, done.stderr
    assert "Green Algorithms" in done.stdout and "95 W" in done.stdout
