"""What ``wattprint doctor`` reports: which sensors work here, which do not and exactly why, and how to fix each."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

OK = "ok"
WARN = "warn"
MISSING = "missing"
ERROR = "error"


@dataclass(frozen=True)
class Check:
    area: str
    """``cpu``, ``rapl``, ``nvidia``, ``amd``, ``memory``, ``cgroup``, ``store``, ``config``."""
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
) -> list[Check]:
    """Every check, in a fixed order. Never raises: a failing probe becomes an ``error`` check."""
    checks: list[Check] = []
    for probe in (_cpu, lambda: _rapl(powercap_root), lambda: _nvidia(nvml), lambda: _amd(amdsmi), _memory,
                  _cgroup, lambda: _store(store)):
        try:
            checks.extend(probe())
        except Exception as error:  # noqa: BLE001 - doctor must always finish
            checks.append(Check("internal", ERROR, f"a check failed unexpectedly: {type(error).__name__}: {error}"))
    return checks


def _cpu() -> list[Check]:
    from wattprint.hardware.cpu import read_cpuinfo
    from wattprint.sensors.model import cpu_power_model

    cpu = read_cpuinfo()
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
            "set cpu_tdp_w (argument, WATTPRINT_CPU_TDP_W or wattprint.toml) to the CPUs' maximum power",
        )
    ]


def _rapl(root: str | Sequence[str] | None) -> list[Check]:
    from wattprint.sensors import powercap_roots

    roots = powercap_roots(root)
    present = [r for r in roots if os.path.isdir(r)]
    if not present:
        in_container = os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
        fix = (
            "mount it into the container: docker run -v /sys/class/powercap:/sys/class/powercap:ro ..."
            if in_container
            else "virtual machines do not expose RAPL; on bare metal, load the intel_rapl_common (Intel) or "
            "amd_energy/rapl (AMD) kernel module"
        )
        return [Check("rapl", MISSING, f"no powercap interface ({', '.join(roots)} absent): CPU energy is modelled",
                      fix)]
    from wattprint.sensors import rapl

    zones = rapl.discover_zones(present)
    chosen, notes = rapl.select_zones(zones)
    if not chosen:
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
    try:
        opened = open_store(url)
    except StoreError as error:
        return [Check("store", ERROR, str(error))]
    try:
        count = len(opened.runs(limit=None))
        return [Check("store", OK, f"{opened.url}: {count} run(s)")]
    finally:
        opened.close()
