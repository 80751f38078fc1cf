"""What ``wattprint doctor`` reports: which sensors work here, which do not and exactly why, and how to fix each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wattprint.sensors.family import DMI_ROOT, ERROR, MISSING, OK, WARN
from wattprint.sensors.presence import virtual_machine

__all__ = ["OK", "WARN", "MISSING", "ERROR", "DMI_ROOT", "Check", "diagnose", "virtual_machine"]


@dataclass(frozen=True)
class Check:
    area: str
    """``config``, ``location``, ``provider`` (a live intensity provider, when one is set), then those of the sensor
    families (``rapl``, ``cpu`` and ``memory`` for the models, ``nvidia``, ``amd``, those of other packages, and
    ``sensors`` for a family that could not be loaded), ``cgroup``, ``store``."""
    status: str
    """``ok``, ``warn`` (works, with a caveat), ``missing`` (not on this machine) or ``error`` (should work, fails)."""
    summary: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(
    *,
    powercap_root: str | Sequence[str] | None = None,
    nvml: Any = None,
    amdsmi: Any = None,
    store: str | None = None,
    cpuinfo_path: str = "/proc/cpuinfo",
    dmi_root: str = DMI_ROOT,
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> list[Check]:
    """Every check, in a fixed order; the sensors' come from the sensor registry, family by family. Never raises: a
    failing probe becomes an ``error`` check, and a broken configuration is reported as ``config`` checks while the
    others run with what could be read."""
    checks: list[Check] = []
    config: Any = None

    def configuration() -> list[Check]:
        nonlocal config
        found, found_checks = _config(store, environ, cwd)
        config = found
        return found_checks

    def sensors() -> list[Check]:
        return _sensors(powercap_root, nvml, amdsmi, cpuinfo_path, dmi_root)

    for probe in (configuration, lambda: _location(config), lambda: _provider(config), sensors, _cgroup,
                  lambda: _store(store if config is None else config.get("store"))):
        try:
            checks.extend(probe())
        except Exception as error:  # noqa: BLE001 - doctor must always finish
            checks.append(Check("internal", ERROR, f"a check failed unexpectedly: {type(error).__name__}: {error}"))
    return checks


def _config(store: str | None, environ: Mapping[str, str] | None, cwd: str | None) -> tuple[Any, list[Check]]:
    """The configuration's problems as findings (a typo'd key must not stop the command meant to find it)."""
    from wattprint.settings.config import inspect_config

    config, problems, warnings = inspect_config({"store": store}, environ=environ, cwd=cwd)
    checks = [Check("config", ERROR, problem, _config_fix(problem)) for problem in problems]
    checks += [Check("config", WARN, warning, "unset it, or rename it to the setting it was meant to be")
               for warning in warnings]
    if not checks:
        given = [s for s in config.settings() if s.source != "default"]
        where = sorted({s.source for s in given})
        checks.append(Check("config", OK, f"{len(given)} setting(s) given" + (f" ({'; '.join(where)})" if where
                                                                                else ": all defaults")))
    return config, checks


def _config_fix(problem: str) -> str:
    if "did you mean" in problem:
        return "correct the key's name; 'wattprint config' lists the keys, their values and where each came from"
    if problem.startswith("unknown key"):
        return "remove the key; 'wattprint config' lists the keys wattprint knows"
    return "correct the value in the source named; 'wattprint config' shows every setting and where it came from"


def _location(config: Any) -> list[Check]:
    """Whether a location is set: without one, emissions use the world average, the largest uncertainty."""
    from wattprint.carbon.location import UNKNOWN_LOCATION_UNCERTAINTY, lookup_location
    from wattprint.core.errors import ConfigError

    setting = None if config is None else config.setting("location")
    if setting is None or setting.value is None:
        network = [] if config is None else [k for k in ("cloud_metadata", "ip_geolocation") if config.get(k)]
        if network:
            return [Check("location", OK, f"no location set; {' and '.join(network)} will look it up at run time "
                                          "(network calls)")]
        return [Check(
            "location", WARN,
            f"no location set: emissions use the world average intensity (±{UNKNOWN_LOCATION_UNCERTAINTY:.0%}), "
            "the largest uncertainty of a footprint",
            "set it: location = \"FR\" in wattprint.toml, WATTPRINT_LOCATION=FR, or --location FR on 'wattprint "
            "run'; 'wattprint regions NAME' finds a country, zone or cloud region; on a cloud VM, "
            "cloud_metadata = true asks the instance metadata service",
        )]
    try:
        record = lookup_location(setting.value, origin=setting.source)
    except ConfigError as error:
        return [Check("location", ERROR, str(error), "'wattprint regions NAME' lists the known locations")]
    year = f", {record.year}" if record.year else ""
    return [Check("location", OK, f"{record.key} ({record.name}, {record.intensity_g_per_kwh:.4g} gCO2e/kWh{year}) "
                                  f"from {setting.source}")]


def _provider(config: Any) -> list[Check]:
    """The live provider the settings name, as the provider's class diagnoses itself (no line when none is set)."""
    name = None if config is None else config.get("intensity_provider")
    if name in (None, "none"):
        return []
    from wattprint.carbon.providers import provider_class
    from wattprint.core.errors import ConfigError

    try:
        ready, summary, fix = provider_class(str(name)).diagnose(config)
    except ConfigError as error:
        return [Check("provider", ERROR, str(error), "'wattprint config' shows the setting and where it came from")]
    return [Check("provider", OK if ready else ERROR, summary, fix)]


def _sensors(powercap_root: str | Sequence[str] | None, nvml: Any, amdsmi: Any, cpuinfo_path: str,
             dmi_root: str) -> list[Check]:
    """What each registered sensor family says about this machine (the CPU, RAPL, memory, GPUs, and the families
    other packages add)."""
    from wattprint.sensors import SensorConfig
    from wattprint.sensors.registry import diagnose as diagnose_sensors

    root = powercap_root if powercap_root is None or isinstance(powercap_root, str) else tuple(powercap_root)
    found = diagnose_sensors(SensorConfig(powercap_root=root, nvml=nvml, amdsmi=amdsmi), cpuinfo_path=cpuinfo_path,
                             dmi_root=dmi_root)
    return [Check(d.area, d.status, d.summary, d.fix) for d in found]


def _cgroup() -> list[Check]:
    from wattprint.hardware.cgroup import CgroupReader, find_cgroup

    paths = find_cgroup()
    if paths is None or paths.cpu_dir is None:
        return [Check("cgroup", MISSING, "no readable cgroup CPU accounting: attribution='cgroup' is unavailable",
                      "use attribution='process', or mount /sys/fs/cgroup")]
    reader = CgroupReader(paths)
    return [Check("cgroup", OK, f"cgroup v{paths.version} at {reader.label}: attribution='cgroup' available")]


def _store(store: str | None) -> list[Check]:
    from wattprint.store import StoreError, open_store, resolve_store_url

    url = resolve_store_url(store)
    if url is None:
        return [Check("store", WARN, "storing runs is turned off (store = off)")]
    spooled = _spooled(url)
    try:
        opened = open_store(url)
    except StoreError as error:
        return [Check("store", ERROR, str(error)), *spooled]
    try:
        count = len(opened.runs(limit=None))
        return [Check("store", OK, f"{opened.url}: {count} run(s)"), *spooled]
    finally:
        opened.close()


def _spooled(url: str) -> list[Check]:
    """Runs waiting in the local spool: saved while the store could not be reached, not in it yet."""
    from wattprint.store.spool import pending, store_spool_dir

    waiting = pending(url)
    if not waiting:
        return []
    shown = ", ".join(f"{w.run_id[:8]} {w.name or '-'} ({w.status}, {w.tasks} task(s))" for w in waiting[-5:])
    more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
    return [Check(
        "store", WARN,
        f"{len(waiting)} run(s) waiting in the spool {store_spool_dir(url)} (the store could not be reached when "
        f"they were saved): {shown}{more}",
        "they are saved into the store by the next tracked run or by 'wattprint runs', once the store works",
    )]
