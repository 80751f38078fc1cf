"""The sensor registry: a family defined here, in one declaration, is probed by a real tracker (the models then fill
only what it leaves), can fall back to the models, and fails alone; one from an entry point is measured by
``wattprint run`` and diagnosed by ``doctor``, and a broken one is logged once and skipped."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.sysfs import CounterDriver, write_zone
from wattprint.core.errors import ConfigError
from wattprint.core.methods import COUNTER, MODEL, DeviceInfo
from wattprint.sensors import (
    Diagnosis,
    ProbeResult,
    Sensor,
    SensorConfig,
    SensorContext,
    SensorFamily,
    probe,
    register,
    registry,
    unregister,
)
from wattprint.sensors.base import SensorError, SensorFactory

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
RANGE_UJ = 10**15
"""The test meters' counters never wrap."""


class WallMeter(Sensor):
    """A made-up wall meter: a cumulative energy counter in µJ in a file (a powercap-like zone the test drives)."""

    def __init__(self, path: Path, component: str, start_t: float, *, fallback: SensorFactory | None = None,
                 fail_after: int | None = None) -> None:
        self.key = f"wallmeter:{path}"
        self.component = component
        self.device = "meter-0"
        self.method = COUNTER
        self.group = self.key
        self.uncertainty_by_method = {COUNTER: 0.02}
        self._path = path / "energy_uj"
        self._last_uj = self._read()
        self._last_t = start_t
        self._fallback = fallback
        self._reads_left = fail_after

    def _read(self) -> int:
        return int(self._path.read_text())

    def advance(self, now: float) -> tuple[float, str]:
        if self._reads_left is not None:
            if self._reads_left == 0:
                raise SensorError("the wall meter stopped answering")
            self._reads_left -= 1
        value = self._read()
        energy_j = max(0, value - self._last_uj) / 1e6
        self._last_uj, self._last_t = value, now
        return energy_j, COUNTER

    def last_good_t(self) -> float:
        return self._last_t

    def fallback(self, since: float) -> list[Sensor]:
        return self._fallback(since) if self._fallback else []

    def info(self) -> DeviceInfo:
        return DeviceInfo(self.component, self.device, "Test wall meter", "wallmeter")


class Constant(Sensor):
    """A sensor at a constant power, standing for any family's device."""

    def __init__(self, family: str, component: str, start_t: float, power_w: float = 10.0) -> None:
        self.key = f"{family}:{component}"
        self.component = component
        self.device = component
        self.method = MODEL
        self.group = self.key
        self.uncertainty_by_method = {MODEL: 0.5}
        self._power_w = power_w
        self._last_t = start_t

    def advance(self, now: float) -> tuple[float, str]:
        energy_j = self._power_w * max(0.0, now - self._last_t)
        self._last_t = now
        return energy_j, MODEL

    def info(self) -> DeviceInfo:
        return DeviceInfo(self.component, self.device, None, "test")


def no_diagnosis(context: SensorContext) -> list[Diagnosis]:
    return []


def wall_meter_family(zone: Path, fail_after: int | None = None) -> SensorFamily:
    """A CPU counter family reading ``zone``; a failed meter falls back to the CPU model through the context."""

    def probe_meter(context: SensorContext) -> ProbeResult:
        meter = WallMeter(zone, "cpu", context.start_t, fallback=context.fallback({"cpu"}), fail_after=fail_after)
        return ProbeResult([meter], [], frozenset({"cpu"}))

    return SensorFamily("wallmeter", "Test wall meter", ("cpu",), (COUNTER,), probe_meter, no_diagnosis)


@pytest.fixture
def registered() -> Iterator[Callable[[SensorFamily], SensorFamily]]:
    """``register``, undone after the test."""
    names: list[str] = []

    def add(family: SensorFamily) -> SensorFamily:
        names.append(family.name)
        return register(family)

    yield add
    for name in names:
        unregister(name)


@pytest.fixture
def zone(tmp_path: Path) -> Path:
    return write_zone(tmp_path / "meter", "meter:0", "meter", max_range_uj=RANGE_UJ)


def test_a_registered_family_is_measured_by_a_tracker_and_the_models_fill_the_rest(
    registered: Callable[[SensorFamily], SensorFamily], zone: Path, model_only: dict[str, object]
) -> None:
    registered(wall_meter_family(zone))
    with CounterDriver({zone: 40.0}, RANGE_UJ), wattprint.Tracker(interval_s=0.05, **model_only) as run:
        time.sleep(0.3)
    assert run.result is not None
    cpu = run.result.components["cpu"]
    assert cpu.method == "counter" and cpu.avg_power_w == pytest.approx(40.0, rel=0.05)
    assert run.result.components["ram"].method == "model"  # the RAM model fills what the meter does not measure
    assert [h.model for h in run.result.hardware if h.component == "cpu"] == ["Test wall meter"]
    unregister("wallmeter")
    with wattprint.Tracker(**model_only) as run:
        time.sleep(0.02)
    assert run.result is not None and run.result.components["cpu"].method == "model"


def test_a_failed_sensor_of_a_family_falls_back_to_the_models(
    registered: Callable[[SensorFamily], SensorFamily], zone: Path, model_only: dict[str, object]
) -> None:
    registered(wall_meter_family(zone, fail_after=2))
    with CounterDriver({zone: 40.0}, RANGE_UJ), wattprint.Tracker(interval_s=0.02, **model_only) as run:
        for _ in range(4):
            with run.task("step"):
                time.sleep(0.02)
    assert run.result is not None
    assert any("the wall meter stopped answering. Modelled from then on (cpu)" in note for note in run.result.notes)
    assert run.result.components["cpu"].method == "model"  # the least direct method of the run's CPU energy


def test_fill_families_are_probed_last_and_keep_their_place(registered: Callable[[SensorFamily], SensorFamily],
                                                            no_rapl: str) -> None:
    probed: list[tuple[str, frozenset[str]]] = []

    def constant_family(name: str, components: tuple[str, ...], *, fills: bool = False) -> SensorFamily:
        def probe_constant(context: SensorContext) -> ProbeResult:
            probed.append((name, context.covered))
            sensors: list[Sensor] = [Constant(name, c, context.start_t) for c in components
                                     if not (fills and c in context.covered)]
            return ProbeResult(sensors, [f"{name} probed"], frozenset(s.component for s in sensors))

        return SensorFamily(name, name.title(), components, (MODEL,), probe_constant, no_diagnosis, fills=fills)

    registered(constant_family("filler", ("tpu", "npu"), fills=True))
    registered(constant_family("tpus", ("tpu",)))
    result = probe(SensorConfig(powercap_root=no_rapl, gpus=False), time.monotonic())
    assert probed == [("tpus", frozenset()), ("filler", frozenset({"cpu", "ram", "tpu"}))]
    assert [s.key for s in result.sensors] == ["model:cpu", "model:ram", "filler:npu", "tpus:tpu"]
    assert result.notes[-2:] == ["filler probed", "tpus probed"]
    assert result.covers == {"cpu", "ram", "tpu", "npu"}
    for sensor in result.sensors:
        sensor.close()


def test_gpus_false_skips_the_families_of_gpus_only(registered: Callable[[SensorFamily], SensorFamily],
                                                    no_rapl: str) -> None:
    def family(name: str, components: tuple[str, ...]) -> SensorFamily:
        def probe_one(context: SensorContext) -> ProbeResult:
            return ProbeResult([Constant(name, components[0], context.start_t)], [], frozenset(components[:1]))

        return SensorFamily(name, name, components, (MODEL,), probe_one, no_diagnosis)

    registered(family("tpugpu", ("gpu",)))
    registered(family("socboard", ("platform", "gpu")))
    off = probe(SensorConfig(powercap_root=no_rapl, gpus=False), time.monotonic())
    on = probe(SensorConfig(powercap_root=no_rapl, gpus=True, nvml=None), time.monotonic())
    assert [s.key for s in off.sensors if s.key.startswith(("tpugpu", "socboard"))] == ["socboard:platform"]
    assert [s.key for s in on.sensors if s.key.startswith(("tpugpu", "socboard"))] == ["tpugpu:gpu",
                                                                                       "socboard:platform"]
    for sensor in off.sensors + on.sensors:
        sensor.close()


def test_a_failing_family_is_logged_once_and_measuring_goes_on(
    registered: Callable[[SensorFamily], SensorFamily], model_only: dict[str, object],
    caplog: pytest.LogCaptureFixture
) -> None:
    def broken_probe(context: SensorContext) -> ProbeResult:
        raise RuntimeError("bus error")

    registered(SensorFamily("flaky", "Flaky meter", ("cpu",), (COUNTER,), broken_probe, no_diagnosis))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        for _ in range(2):
            with wattprint.Tracker(**model_only) as run:
                time.sleep(0.02)
            assert run.result is not None and run.result.components["cpu"].method == "model"
            assert "The flaky sensors could not be probed (RuntimeError: bus error); not used." in run.result.notes
    warnings = [r.getMessage() for r in caplog.records if "flaky" in r.getMessage()]
    assert warnings == ["wattprint: the flaky sensors could not be probed (RuntimeError: bus error); not used"]


def test_register_refuses_a_taken_name_and_what_is_not_a_family(
    registered: Callable[[SensorFamily], SensorFamily], zone: Path
) -> None:
    assert registry.names()[:4] == ("rapl", "model", "nvidia", "amd")
    taken = SensorFamily("rapl", "another RAPL", ("cpu",), (COUNTER,), lambda c: ProbeResult([], [], frozenset()),
                         no_diagnosis)
    with pytest.raises(ValueError, match=r"'rapl' is taken \(RAPL energy counters"):
        register(taken)
    not_a_family: Any = "rapl"
    with pytest.raises(ValueError, match="is not a wattprint.sensors.SensorFamily"):
        register(not_a_family)
    registered(wall_meter_family(zone))
    assert registry.names()[-1] == "wallmeter" and registry.get("wallmeter").components == ("cpu",)
    unregister("wallmeter")
    with pytest.raises(ConfigError, match="sensor family='wallmeter' is not valid"):
        registry.get("wallmeter")


PLUGIN = '''
import os

from wattprint.core.methods import COUNTER, DeviceInfo
from wattprint.sensors import Diagnosis, ProbeResult, Sensor, SensorFamily


class PlugMeter(Sensor):
    def __init__(self, path, start_t):
        self.key, self.component, self.device, self.method, self.group = "plugmeter", "cpu", "plug", COUNTER, "plug"
        self.uncertainty_by_method = {COUNTER: 0.02}
        self.path = path
        self.last = self.read()

    def read(self):
        with open(self.path) as handle:
            return int(handle.read())

    def advance(self, now):
        value = self.read()
        energy, self.last = (value - self.last) / 1e6, value
        return energy, COUNTER

    def info(self):
        return DeviceInfo("cpu", "plug", "Plug meter", "plugmeter")


def probe(context):
    meter = PlugMeter(os.path.join(os.environ["PLUGMETER_ZONE"], "energy_uj"), context.start_t)
    return ProbeResult([meter], [], frozenset({"cpu"}))


def diagnose(context):
    return [Diagnosis("plugmeter", "ok", "plug meter answers at " + os.environ["PLUGMETER_ZONE"])]


def crash(context):
    raise OSError("the serial port is gone")


FAMILY = SensorFamily("plugmeter", "Plug meter", ("cpu",), (COUNTER,), probe, diagnose)
CRASHING = SensorFamily("serialmeter", "Serial meter", ("ram",), (COUNTER,), crash, diagnose)
'''


def test_an_entry_point_adds_a_family_to_run_and_doctor_and_a_broken_one_is_logged_once(
    tmp_path: Path, zone: Path, env: dict[str, str]
) -> None:
    site = tmp_path / "site"
    info = site / "wattprint_plugmeter-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wattprint-plugmeter\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[wattprint.sensors]\nplugmeter = wattprint_plugmeter:FAMILY\nbroken = wattprint_broken:FAMILY\n"
        "serialmeter = wattprint_plugmeter:CRASHING\n")
    (site / "wattprint_plugmeter.py").write_text(PLUGIN)
    (site / "wattprint_broken.py").write_text("raise RuntimeError('the plug-in is broken')\n")
    env = dict(env, PLUGMETER_ZONE=str(zone),
               PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))

    def wattprint_command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=120)

    with CounterDriver({zone: 25.0}, RANGE_UJ):
        done = wattprint_command("run", "--attribution", "machine", "--", sys.executable, "-c",
                                 "import time; time.sleep(0.5)")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("'broken'") == 1 and "RuntimeError: the plug-in is broken" in done.stderr
    assert done.stderr.count("the serialmeter sensors could not be probed (OSError: the serial port is gone)") == 1
    shown = json.loads(wattprint_command("show", "last", "--json").stdout)
    cpu = next(c for c in shown["components"] if c["component"] == "cpu")
    assert cpu["method"] == "counter" and cpu["avg_power_w"] == pytest.approx(25.0, rel=0.1)
    assert next(c for c in shown["components"] if c["component"] == "ram")["method"] == "model"

    doctor = wattprint_command("doctor", "--json")
    checks = json.loads(doctor.stdout)
    assert {"area": "plugmeter", "status": "ok", "summary": f"plug meter answers at {zone}", "fix": None} in checks
    broken = [c for c in checks if c["area"] == "sensors"]
    assert len(broken) == 1 and broken[0]["status"] == "error" and "'broken'" in broken[0]["summary"]
    assert doctor.returncode == 1  # a family that cannot be loaded is an error to fix
