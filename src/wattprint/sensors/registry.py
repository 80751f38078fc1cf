"""The registry of sensor families: what :func:`probe` opens and what ``doctor`` diagnoses, in one ordered list.

A new family is one module with a probe and a diagnosis, declared as a :class:`SensorFamily` here (built in), with
:func:`register`, or by another package as an entry point in the group ``wattprint.sensors`` naming a
``SensorFamily``. Families are probed in order, except those that ``fill`` (the models), probed last for what the
others leave uncovered. A family that fails to load or to probe is logged once and skipped: measuring goes on.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence

from wattprint.core.methods import COUNTER, MODEL, SAMPLED
from wattprint.core.plugins import Registry
from wattprint.sensors import presence
from wattprint.sensors.base import ProbeResult, Sensor
from wattprint.sensors.family import ERROR, Diagnosis, SensorConfig, SensorContext, SensorFamily
from wattprint.sensors.powercap import powercap_roots

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "diagnose", "families", "get", "names", "probe", "register", "unregister"]

ENTRY_POINT_GROUP = "wattprint.sensors"


def _lazy(module: str, function: str) -> Callable[[SensorContext], Any]:
    """``module.function``, imported on the first call: declaring a family imports none of its code."""

    def call(context: SensorContext) -> Any:
        return getattr(importlib.import_module(module), function)(context)

    call.__qualname__ = f"{module}.{function}"
    return call


def _built_in(name: str, title: str, components: tuple[str, ...], methods: tuple[str, ...], settings: tuple[str, ...],
              present: Callable[[SensorContext], bool] | None = None, fills: bool = False) -> SensorFamily:
    """A family of this package: module ``wattprint.sensors.<name>`` holds its ``probe_family`` and ``diagnose``."""
    module = f"wattprint.sensors.{name}"
    return SensorFamily(name, title, components, methods, _lazy(module, "probe_family"), _lazy(module, "diagnose"),
                        settings=settings, present=present, fills=fills)


def _powercap_present(context: SensorContext) -> bool:
    return any(os.path.isdir(root) for root in powercap_roots(context.config.powercap_root))


def _nvidia_present(context: SensorContext) -> bool:
    return presence.nvidia_possible(context.config.nvml)


def _amd_present(context: SensorContext) -> bool:
    return presence.amd_possible(context.config.amdsmi)


BUILT_IN = (
    _built_in("rapl", "RAPL energy counters (Linux powercap)", ("cpu", "ram", "platform"), (COUNTER,),
              ("powercap_root", "rapl_domains"), _powercap_present),
    _built_in("model", "CPU and RAM power models", ("cpu", "ram"), (MODEL,), ("cpu_tdp_w", "interval_s"), fills=True),
    _built_in("nvidia", "NVIDIA GPUs (NVML)", ("gpu",), (COUNTER, SAMPLED), ("gpus", "interval_s"), _nvidia_present),
    _built_in("amd", "AMD GPUs (amdsmi)", ("gpu",), (COUNTER, SAMPLED), ("gpus", "interval_s"), _amd_present),
)
"""The families wattprint ships, in the order their sensors are listed (CPU and RAM first, then the GPUs)."""

def _check(family: object, taken: Sequence[SensorFamily]) -> str | None:
    """Why ``family`` cannot join ``taken`` (not a family, or a name already used), or None."""
    if not isinstance(family, SensorFamily):
        return f"{family!r} is not a wattprint.sensors.SensorFamily"
    if not family.name or not family.components:
        return f"sensor family {family.name!r} needs a name and the components it measures"
    for other in taken:
        if other.name == family.name:
            return f"the sensor family name {family.name!r} is taken ({other.title})"
    return None


REGISTRY: Registry[SensorFamily] = Registry("sensor family", ENTRY_POINT_GROUP, {f.name: f for f in BUILT_IN},
                                             _check)
"""The families: built-in, from entry points, then registered (a broken entry point is logged once, skipped)."""


def register(family: SensorFamily) -> SensorFamily:
    """Add ``family`` after the others, for every tracker probed from now on and for ``doctor``; returns it. A name
    another family has is a ValueError (``unregister`` it first to replace it)."""
    return REGISTRY.register(family)


def unregister(name: str) -> None:
    """Remove the family ``register`` added as ``name`` (the built-in ones and entry points stay)."""
    REGISTRY.unregister(name)


def families() -> tuple[SensorFamily, ...]:
    """Every sensor family, in order: the built-in ones, those of entry points, then those ``register`` added."""
    return REGISTRY.all()


def names() -> tuple[str, ...]:
    """The families' names, in order."""
    return tuple(family.name for family in families())


def get(name: str) -> SensorFamily:
    """The family called ``name``; any other name is a ConfigError listing the ones there are."""
    from wattprint.core.errors import check_choice

    known = {family.name: family for family in families()}
    check_choice("sensor family", name, tuple(known))
    return known[name]


def probe(config: SensorConfig, start_t: float) -> ProbeResult:
    """Open every sensor this machine offers under ``config``, family by family; the filling families (the models)
    come last and measure what no other family covers. Sensors and notes are listed in the registry's order."""
    every = families()

    def fill(wanted: frozenset[str], since: float) -> list[Sensor]:
        return _fill(every, context, wanted, since)

    context = SensorContext(config, start_t, fallback=fill)
    results: dict[str, ProbeResult] = {}
    covered: frozenset[str] = frozenset()
    for family in [f for f in every if not f.fills] + [f for f in every if f.fills]:
        if not family.wanted(config):
            continue
        result = _probe_one(family, context.covering(covered))
        if result is not None:
            results[family.name] = result
            covered |= result.covers | {s.component for s in result.sensors}
    sensors: list[Sensor] = []
    notes: list[str] = []
    for family in every:
        if family.name in results:
            sensors += results[family.name].sensors
            notes += results[family.name].notes
    return ProbeResult(sensors=sensors, notes=notes, covers=covered)


def _probe_one(family: SensorFamily, context: SensorContext) -> ProbeResult | None:
    """One family's result; None when it has nothing to measure here. A family that raises is logged once (per
    process), noted in the run, and measures nothing."""
    if family.fills and set(family.components) <= context.covered:
        return None
    try:
        if family.present is not None and not family.present(context):
            return None
        result = family.probe(context)
        if not isinstance(result, ProbeResult):
            raise TypeError(f"its probe returned {type(result).__name__}, not a ProbeResult")
        return result
    except Exception as error:  # noqa: BLE001 - one family's trouble must not stop the others measuring
        from wattprint import _log

        message = f"the {family.name} sensors could not be probed ({type(error).__name__}: {error}); not used"
        _log.warn_once(f"sensor-probe:{family.name}", f"wattprint: {message}")
        return ProbeResult([], [message[0].upper() + message[1:] + "."], frozenset())


def _fill(every: tuple[SensorFamily, ...], context: SensorContext, wanted: frozenset[str],
          since: float) -> list[Sensor]:
    """The filling families' sensors for ``wanted`` components, measuring from ``since`` (a failed sensor's
    replacement); their notes are not needed then."""
    sensors: list[Sensor] = []
    for family in every:
        if family.fills and wanted & set(family.components):
            covered = frozenset(family.components) - wanted
            result = _probe_one(family, context.covering(covered, since))
            if result is not None:
                sensors += result.sensors
                wanted = wanted - {s.component for s in result.sensors}
    return sensors


def diagnose(
    config: SensorConfig | None = None,
    *,
    cpuinfo_path: str | None = None,
    dmi_root: str | None = None,
) -> list[Diagnosis]:
    """What ``doctor`` says about each family, in the registry's order, then the entry points that could not be
    used. Never raises: a diagnosis that fails becomes an ``error`` line naming its family."""
    from wattprint.sensors.family import DMI_ROOT

    context = SensorContext(config or SensorConfig(), cpuinfo_path=cpuinfo_path, dmi_root=dmi_root or DMI_ROOT)
    found: list[Diagnosis] = []
    for family in families():
        try:
            found += family.diagnose(context)
        except Exception as error:  # noqa: BLE001 - doctor must always finish
            found.append(Diagnosis(family.name, ERROR, f"the {family.name} check failed unexpectedly: "
                                                       f"{type(error).__name__}: {error}"))
    fix = "fix or uninstall the package that declares it (pip show -f PACKAGE)"
    return found + [Diagnosis("sensors", ERROR, problem, fix) for problem in REGISTRY.problems()]
