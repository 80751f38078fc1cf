"""What ``wattprint doctor`` reports: which sensors work here, which do not and exactly why, and how to fix each."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

OK = "ok"
WARN = "warn"
MISSING = "missing"
ERROR = "error"
DMI_ROOT = "/sys/class/dmi/id"


@dataclass(frozen=True)
class Check:
    area: str
    """``config``, ``location``, ``provider`` (a live intensity provider, when one is set), ``cpu``, ``rapl``,
    ``nvidia``, ``amd``, ``memory``, ``cgroup``, ``store``."""
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
    """Every check, in a fixed order. Never raises: a failing probe becomes an ``error`` check, and a broken
    configuration is reported as ``config`` checks while the others run with what could be read."""
    checks: list[Check] = []
    config: Any = None

    def configuration() -> list[Check]:
        nonlocal config
        found, found_checks = _config(store, environ, cwd)
        config = found
        return found_checks

    for probe in (configuration, lambda: _location(config), lambda: _provider(config), lambda: _cpu(cpuinfo_path),
                  lambda: _rapl(powercap_root, cpuinfo_path, dmi_root), lambda: _nvidia(nvml), lambda: _amd(amdsmi),
                  _memory, _cgroup, lambda: _store(store if config is None else config.get("store"))):
        try:
            checks.extend(probe())
        except Exception as error:  # noqa: BLE001 - doctor must always finish
            checks.append(Check("internal", ERROR, f"a check failed unexpectedly: {type(error).__name__}: {error}"))
    return checks


_HYPERVISOR_VENDORS = ("qemu", "kvm", "vmware", "xen", "innotek", "virtualbox", "parallels", "bochs", "amazon ec2",
                       "google", "openstack", "microsoft corporation", "alibaba cloud", "digitalocean", "hetzner")
"""Words in the DMI vendor or product name of virtual machines (Microsoft: Hyper-V and Azure)."""


def virtual_machine(cpuinfo_path: str = "/proc/cpuinfo", dmi_root: str = DMI_ROOT) -> str | None:
    """What shows this machine is a virtual machine (the CPU's ``hypervisor`` flag, or a hypervisor's name in
    the DMI tables), or None on bare metal."""
    from wattprint.hardware.cpu import read_cpuinfo

    for name in ("sys_vendor", "product_name", "bios_vendor"):
        try:
            with open(os.path.join(dmi_root, name), encoding="utf-8", errors="replace") as handle:
                value = handle.read().strip()
        except OSError:
            continue
        hypervisor = any(word in value.lower() for word in _HYPERVISOR_VENDORS)
        if hypervisor and ("microsoft" not in value.lower() or _hyperv_product(dmi_root)):
            return f"{value!r} in {os.path.join(dmi_root, name)}"
    if read_cpuinfo(cpuinfo_path).virtualized:
        return f"the hypervisor flag in {cpuinfo_path}"
    return None


def _hyperv_product(dmi_root: str) -> bool:
    """Microsoft also makes bare-metal Surface machines: a Hyper-V guest's product is 'Virtual Machine'."""
    try:
        with open(os.path.join(dmi_root, "product_name"), encoding="utf-8", errors="replace") as handle:
            return "virtual" in handle.read().lower()
    except OSError:
        return False


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


def _cpu(cpuinfo_path: str = "/proc/cpuinfo") -> list[Check]:
    from wattprint.hardware.cpu import read_cpuinfo
    from wattprint.sensors.model import cpu_power_model

    cpu = read_cpuinfo(cpuinfo_path)
    where = "virtual machine" if cpu.virtualized else "bare metal"
    described = (
        f"{cpu.model_name or 'unknown CPU'} ({cpu.vendor or 'unknown vendor'}), {cpu.sockets} socket(s), "
        f"{cpu.logical_cpus} logical CPU(s), {where}"
    )
    model = cpu_power_model(cpu)
    if model.known_model:
        return [Check("cpu", OK, f"{described}; model when no counter: {model.basis}")]
    return [
        Check(
            "cpu",
            WARN,
            f"{described}; {model.basis}",
            "set cpu_tdp_w to the CPUs' maximum power in watts: cpu_tdp_w = 65 in wattprint.toml, "
            "WATTPRINT_CPU_TDP_W=65, or --cpu-tdp-w 65 on 'wattprint run'",
        )
    ]


def _rapl(root: str | Sequence[str] | None, cpuinfo_path: str = "/proc/cpuinfo",
          dmi_root: str = DMI_ROOT) -> list[Check]:
    from wattprint.sensors import powercap_roots

    roots = powercap_roots(root)
    present = [r for r in roots if os.path.isdir(r)]
    if not present:
        vm = _vm_without_rapl(cpuinfo_path, dmi_root)
        if vm:
            return vm
        in_container = os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
        fix = (
            "mount it into the container: docker run -v /sys/class/powercap:/sys/class/powercap:ro ..."
            if in_container
            else "load the intel_rapl_common (Intel) or amd_energy/rapl (AMD) kernel module"
        )
        return [Check("rapl", MISSING, f"no powercap interface ({', '.join(roots)} absent): CPU energy is modelled",
                      fix)]
    from wattprint.sensors import rapl

    zones = rapl.discover_zones(present)
    chosen, notes = rapl.select_zones(zones)
    if not chosen:
        vm = _vm_without_rapl(cpuinfo_path, dmi_root)
        if vm:
            return vm
        return [Check("rapl", MISSING, f"powercap is present ({', '.join(present)}) but has no RAPL zones",
                      "load the intel_rapl_common kernel module (modprobe intel_rapl_common)")]
    checks = []
    for zone in chosen:
        try:
            with open(os.path.join(zone.path, "energy_uj"), "rb") as handle:
                int(handle.read())
        except PermissionError:
            checks.append(Check("rapl", ERROR, f"{zone.name} ({zone.path}/energy_uj) is not readable by this user",
                                rapl.FIX_PERMISSIONS))
            continue
        except (OSError, ValueError) as error:
            checks.append(Check("rapl", ERROR, f"{zone.name} ({zone.path}/energy_uj) cannot be read: {error}"))
            continue
        checks.append(Check("rapl", OK, f"{zone.name}: energy counter readable ({zone.path}), "
                                        f"wraps at {zone.max_energy_range_uj / 1e6:.0f} J"))
    checks += [Check("rapl", OK, note) for note in notes]
    return checks


def _vm_without_rapl(cpuinfo_path: str, dmi_root: str) -> list[Check]:
    """On a virtual machine, the reason there is no RAPL (and no mount or module will give it one)."""
    vm = virtual_machine(cpuinfo_path, dmi_root)
    if vm is None:
        return []
    return [Check("rapl", MISSING, f"no RAPL counters: this is a virtual machine ({vm}), and hypervisors do not "
                                   "expose RAPL to guests: CPU energy is modelled",
                  "nothing to fix on a VM; on bare metal (or a cloud bare-metal instance) RAPL counters are read; "
                  "'--cpu-tdp-w' or cpu_tdp_w sharpens the model")]


def _nvidia(module: Any) -> list[Check]:
    from wattprint.sensors import presence

    if not presence.nvidia_possible(module):
        return [Check("nvidia", MISSING, "no NVIDIA driver loaded (/proc/driver/nvidia/version, /dev/nvidiactl)")]
    from wattprint.sensors import nvidia

    try:
        nvml = nvidia.load_nvml(module)
    except ImportError:
        return [Check("nvidia", ERROR, "an NVIDIA driver is loaded but the nvidia-ml-py package is missing",
                      "pip install nvidia-ml-py")]
    except Exception as error:  # noqa: BLE001 - NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return [Check("nvidia", ERROR, f"NVML cannot be initialised: {error}",
                      "check that libnvidia-ml.so is installed and matches the kernel driver (nvidia-smi must work); "
                      "in a container, run it with the NVIDIA container toolkit (--gpus all)")]
    targets, notes = nvidia.resolve_visible(nvml, os.environ.get("CUDA_VISIBLE_DEVICES"))
    checks = [Check("nvidia", WARN, note) for note in notes]
    if not targets:
        checks.append(Check("nvidia", MISSING, "NVML works but no GPU is visible (CUDA_VISIBLE_DEVICES?)"))
    for target in targets:
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(target.handle)
            how = "total-energy counter"
            status = OK
        except Exception:  # noqa: BLE001
            how = "no energy counter (older than Volta): power is sampled"
            status = WARN
        mig = f", MIG slice {target.mig_uuid} ({target.share:.0%} of the GPU)" if target.mig_uuid else ""
        checks.append(Check("nvidia", status, f"{target.label}: {target.name} ({target.uuid}){mig}: {how}"))
    return checks


def _amd(module: Any) -> list[Check]:
    from wattprint.sensors import presence

    if not presence.amd_possible(module):
        return [Check("amd", MISSING, "no AMD GPU driver (amdgpu / /dev/kfd)")]
    from wattprint.sensors import amd

    result = amd.probe(module=module, interval_s=1.0, start_t=0.0)
    if not result.sensors and result.notes:
        return [Check("amd", ERROR, note, "install ROCm's amdsmi Python package (pip install 'wattprint[amd]')")
                for note in result.notes]
    checks = [Check("amd", OK, f"{s.device}: {getattr(s, 'name', 'AMD GPU')} ({s.method})") for s in result.sensors]
    return checks + [Check("amd", WARN, note) for note in result.notes]


def _memory() -> list[Check]:
    from wattprint.hardware.cgroup import memory_limit_bytes
    from wattprint.hardware.procfs import MemInfo

    meminfo = MemInfo()
    total, used = meminfo.read()
    meminfo.close()
    limit = memory_limit_bytes()
    limited = f"; cgroup memory limit {limit / 1e9:.1f} GB" if limit else ""
    return [Check("memory", OK, f"{total / 1e9:.1f} GB, {used / 1e9:.1f} GB in use{limited}: RAM energy is "
                                "modelled unless RAPL dram is readable")]


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
