"""``doctor``'s sensor lines come from the sensor registry, family by family: a family registered here shows up in
``wattprint doctor`` with nothing else edited, one whose diagnosis fails becomes an error line, and the injected
hardware (a powercap tree, a fake NVML) reaches the built-in families' diagnoses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from tests.fakes.sysfs import write_zone
from wattprint.cli.main import main
from wattprint.core.methods import SAMPLED
from wattprint.report.diagnostics import diagnose
from wattprint.sensors import Diagnosis, ProbeResult, SensorContext, SensorFamily, register, unregister
from wattprint.sensors.family import OK, WARN

SENSOR_AREAS = ["rapl", "cpu", "memory", "nvidia", "amd"]


def nothing(context: SensorContext) -> ProbeResult:
    return ProbeResult([], [], frozenset())


def fans(context: SensorContext) -> list[Diagnosis]:
    root = context.config.powercap_root
    return [Diagnosis("fans", OK, f"2 fans read (powercap root {root})"),
            Diagnosis("fans", WARN, "fan 3 has no tachometer", "replace fan 3")]


def out_of_order(context: SensorContext) -> list[Diagnosis]:
    raise OSError("I2C bus busy")


@pytest.fixture
def fan_family() -> Iterator[SensorFamily]:
    family = register(SensorFamily("fans", "Fan power (test)", ("fan",), (SAMPLED,), nothing, fans))
    yield family
    unregister("fans")


@pytest.fixture
def no_hardware(monkeypatch: pytest.MonkeyPatch, no_rapl: str) -> None:
    monkeypatch.setenv("WATTPRINT_POWERCAP_ROOT", no_rapl)
    monkeypatch.setenv("WATTPRINT_GPUS", "false")


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    return code, capsys.readouterr().out


def test_a_registered_family_is_listed_by_doctor(fan_family: SensorFamily, no_hardware: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, out = doctor(capsys, "--json")
    checks = json.loads(out)
    areas = [c["area"] for c in checks]
    sensor_areas = [a for a in dict.fromkeys(areas) if a in [*SENSOR_AREAS, "fans"]]
    assert sensor_areas == [*SENSOR_AREAS, "fans"]  # the registry's order: the built-in families, then this one
    assert areas.index("fans") < areas.index("cgroup") < areas.index("store")
    fan_lines = [c for c in checks if c["area"] == "fans"]
    assert fan_lines[1] == {"area": "fans", "status": "warn", "summary": "fan 3 has no tachometer",
                            "fix": "replace fan 3"}
    assert fan_lines[0]["status"] == "ok" and fan_lines[0]["summary"].startswith("2 fans read")
    _, text = doctor(capsys)
    assert "[warn] fans    fan 3 has no tachometer\n" in text and "fix: replace fan 3" in text
    unregister("fans")
    assert "fans" not in doctor(capsys)[1]


def test_a_failing_diagnosis_is_an_error_line_and_the_others_still_run(no_hardware: None,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    register(SensorFamily("i2cmeter", "I2C power meter", ("platform",), (SAMPLED,), nothing, out_of_order))
    try:
        code, out = doctor(capsys, "--json")
    finally:
        unregister("i2cmeter")
    checks = json.loads(out)
    line = next(c for c in checks if c["area"] == "i2cmeter")
    assert line["status"] == "error"
    assert line["summary"] == "the i2cmeter check failed unexpectedly: OSError: I2C bus busy"
    assert code == 1
    assert {"rapl", "cpu", "memory", "cgroup", "store"} <= {c["area"] for c in checks}


def test_injected_hardware_reaches_the_families_diagnoses(fan_family: SensorFamily, tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    write_zone(root / "intel-rapl", "intel-rapl:0", "package-0", 1_000_000)
    checks = diagnose(powercap_root=str(root), nvml=FakeNvml([FakeGpu()]), store="off")
    rapl = [c for c in checks if c.area == "rapl"]
    assert rapl[0].status == "ok" and rapl[0].summary.startswith("package-0: energy counter readable")
    nvidia = [c for c in checks if c.area == "nvidia"]
    assert len(nvidia) == 1 and nvidia[0].status == "ok"
    assert "NVIDIA H100 80GB HBM3" in nvidia[0].summary and nvidia[0].summary.endswith("total-energy counter")
    assert next(c for c in checks if c.area == "fans").summary == f"2 fans read (powercap root {root})"
