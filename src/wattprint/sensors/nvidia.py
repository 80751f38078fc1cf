"""NVIDIA GPUs through NVML (the ``nvidia-ml-py`` package, imported only when a driver is present).

Energy comes from the board's total-energy counter (mJ, Volta and newer) read at window edges. Where the
counter is missing, or fails a sanity check against the power readings, power is sampled every interval and
integrated. ``CUDA_VISIBLE_DEVICES`` is honoured (indices, ``GPU-`` UUIDs and unique prefixes, ``MIG-``
slices); device labels ``gpu:N`` follow its order, as frameworks number ``cuda:N``.

A MIG slice has no counter of its own: the parent GPU's energy is split by the slice's share of the GPU's
slices, and the result says so.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from wattprint import _log
from wattprint._log import warn_once
from wattprint.core.methods import COUNTER, SAMPLED, DeviceInfo
from wattprint.sensors.base import ProbeResult, Sensor, SensorError
from wattprint.sensors.family import ERROR, MISSING, OK, WARN, Diagnosis, SensorContext
from wattprint.sensors.presence import NVML_MODULE_VARIABLE, nvidia_driver_present, nvidia_possible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_MODULE = NVML_MODULE_VARIABLE

UNCERTAINTY = {COUNTER: 0.05, SAMPLED: 0.1}
"""NVIDIA states its board power readings to +/-5 %; sampling adds the error of missed power swings."""

SANITY_WINDOW_S = 5.0
SANITY_MIN_POWER_W = 30.0
SANITY_STRIKES = 2

_nvml_pid: dict[int, int] = {}


def driver_present() -> bool:
    return nvidia_driver_present()


def load_nvml(module: Any = None) -> Any:
    """The NVML binding to use: the given module, ``$WATTPRINT_NVML_MODULE``, or ``pynvml``; initialised."""
    if module is None:
        name = os.environ.get(ENV_MODULE) or "pynvml"
        module = importlib.import_module(name)
    if _nvml_pid.get(id(module)) != os.getpid():
        module.nvmlInit()  # once per process (again in a forked child)
        _nvml_pid[id(module)] = os.getpid()
    return module


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class GpuTarget:
    """One visible GPU or MIG slice, resolved to NVML handles."""

    label: str
    handle: Any
    """Handle whose energy and power are read (the parent GPU for a MIG slice)."""
    uuid: str
    nvml_index: int
    name: str
    share: float = 1.0
    mig_uuid: str | None = None


def resolve_visible(nvml: Any, visible: str | None) -> tuple[list[GpuTarget], list[str]]:
    """The GPUs ``CUDA_VISIBLE_DEVICES`` selects, in its order; like CUDA, parsing stops at an invalid entry."""
    notes: list[str] = []
    gpus = []
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        gpus.append((index, handle, _text(nvml.nvmlDeviceGetUUID(handle))))

    def target(index: int, handle: Any, uuid: str) -> GpuTarget:
        return GpuTarget("", handle, uuid, index, _text(nvml.nvmlDeviceGetName(handle)))

    if visible is None:
        chosen = [target(*gpu) for gpu in gpus]
    else:
        chosen = []
        for token in (t.strip() for t in visible.split(",")):
            found = _match(nvml, token, gpus, target)
            if found is None:
                if token:
                    notes.append(
                        f"CUDA_VISIBLE_DEVICES entry {token!r} matches no GPU; like CUDA, the entries after it "
                        "are ignored."
                    )
                break
            if any(t.uuid == found.uuid and t.mig_uuid == found.mig_uuid for t in chosen):
                continue
            chosen.append(found)
    for position, item in enumerate(chosen):
        item.label = f"gpu:{position}"
    return chosen, notes


def _match(nvml: Any, token: str, gpus: list[tuple[int, Any, str]], target: Any) -> GpuTarget | None:
    if not token:
        return None
    if token.lstrip("-").isdigit():
        index = int(token)
        return target(*gpus[index]) if 0 <= index < len(gpus) else None
    if token.startswith("MIG-"):
        return _match_mig(nvml, token, gpus, target)
    uuid = token if token.startswith("GPU-") else f"GPU-{token}"
    matches = [gpu for gpu in gpus if gpu[2].startswith(uuid)]
    return target(*matches[0]) if len(matches) == 1 else None


def _match_mig(nvml: Any, token: str, gpus: list[tuple[int, Any, str]], target: Any) -> GpuTarget | None:
    legacy = token.startswith("MIG-GPU-") and token.count("/") == 2  # MIG-GPU-<uuid>/<gi>/<ci>
    for index, parent, parent_uuid in gpus:
        try:
            if nvml.nvmlDeviceGetMigMode(parent)[0] != 1:
                continue
            slots = nvml.nvmlDeviceGetMaxMigDeviceCount(parent)
        except Exception:  # noqa: BLE001 - MIG not supported on this GPU
            continue
        for slot in range(slots):
            try:
                mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(parent, slot)
            except Exception:  # noqa: BLE001 - empty slot
                continue
            mig_uuid = _text(nvml.nvmlDeviceGetUUID(mig))
            if legacy:
                gpu_part, gi, _ci = token[len("MIG-"):].split("/")
                hit = parent_uuid == gpu_part and str(nvml.nvmlDeviceGetGpuInstanceId(mig)) == gi
            else:
                hit = mig_uuid.startswith(token)
            if hit:
                item = target(index, parent, parent_uuid)
                item.mig_uuid = mig_uuid
                item.share = _mig_share(nvml, mig, slots)
                return item
    return None


def _mig_share(nvml: Any, mig: Any, slots: int) -> float:
    try:
        slices = nvml.nvmlDeviceGetAttributes(mig).gpuInstanceSliceCount
        return min(1.0, slices / slots) if slots else 1.0
    except Exception:  # noqa: BLE001
        return 1.0 / slots if slots else 1.0


class NvidiaGpuSensor(Sensor):
    """One GPU (or MIG slice): total-energy counter at edges, integrated power where it cannot be trusted."""

    def __init__(self, nvml: Any, target: GpuTarget, *, interval_s: float, start_t: float) -> None:
        self._nvml = nvml
        self.target = target
        self.key = f"nvml:{target.mig_uuid or target.uuid}"
        self.component = "gpu"
        self.device = target.label
        self.group = self.key
        self.uncertainty_by_method = dict(UNCERTAINTY)
        self._interval_s = interval_s
        self._handle = target.handle
        try:
            self.power_limit_w: float | None = nvml.nvmlDeviceGetEnforcedPowerLimit(self._handle) / 1000.0
        except Exception:  # noqa: BLE001 - not supported on some boards
            self.power_limit_w = None
        self._last_t = start_t
        self._good_t = start_t
        self._last_power_w = self._power()
        self._last_mj: int | None = None
        self._process_ts = 0
        self._had_samples = False
        self.counter_note: str | None = None
        try:
            self._last_mj = int(nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
            self.method = COUNTER
        except Exception as error:  # noqa: BLE001 - NotSupported before Volta
            self.method = SAMPLED
            self.counter_note = (
                f"{target.label} ({target.name}) has no total-energy counter ({_text(error)}): its power is "
                f"sampled every {interval_s:g} s and integrated."
            )
        self._check_t = start_t
        self._check_mj = self._last_mj
        self._check_power_w = self._last_power_w
        self._strikes = 0
        self._runtime_note: str | None = None

    def runtime_notes(self) -> list[str]:
        return [self._runtime_note] if self._runtime_note else []

    def _power(self) -> float | None:
        try:
            return self._nvml.nvmlDeviceGetPowerUsage(self._handle) / 1000.0
        except Exception:  # noqa: BLE001
            return None

    def advance(self, now: float) -> tuple[float, str]:
        try:
            if self.method == COUNTER:
                return self._advance_counter(now)
            return self._advance_sampled(now)
        except SensorError:
            raise
        except Exception as error:  # noqa: BLE001 - NVMLError: GPU lost, driver unloaded, ...
            raise SensorError(f"NVML stopped answering for {self.device} ({self.target.name}): {error}") from error

    def _advance_counter(self, now: float) -> tuple[float, str]:
        value = int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        assert self._last_mj is not None
        delta = value - self._last_mj
        if delta < 0:
            return self._abandon_counter(now, "the counter went backwards (driver reloaded?)")
        self._last_mj = value
        self._last_t = now
        self._good_t = now
        if now - self._check_t >= SANITY_WINDOW_S:
            failure = self._sanity_check(now, value)
            if failure:
                return self._abandon_counter(now, failure, energy_j=delta / 1000.0 * self.target.share)
        return delta / 1000.0 * self.target.share, COUNTER

    def _sanity_check(self, now: float, value: int) -> str | None:
        """Compare the counter's average power over the last window with the power readings at its ends."""
        power = self._power()
        assert self._check_mj is not None
        counter_w = (value - self._check_mj) / 1000.0 / (now - self._check_t)
        readings = [p for p in (self._check_power_w, power) if p is not None]
        self._check_t, self._check_mj, self._check_power_w = now, value, power
        if not readings:
            return None
        sampled_w = sum(readings) / len(readings)
        if sampled_w >= SANITY_MIN_POWER_W and not (0.25 * sampled_w <= counter_w <= 4 * sampled_w):
            self._strikes += 1
            if self._strikes >= SANITY_STRIKES:
                return f"the counter says {counter_w:.0f} W while power readings say {sampled_w:.0f} W"
        else:
            self._strikes = 0
        return None

    def _abandon_counter(self, now: float, why: str, energy_j: float = 0.0) -> tuple[float, str]:
        self.method = SAMPLED
        self._runtime_note = (
            f"{self.device} ({self.target.name}): the total-energy counter failed a sanity check ({why}); "
            f"its power is sampled every {self._interval_s:g} s from then on."
        )
        warn_once(f"nvml-counter:{self.key}", f"wattprint: {self._runtime_note}")
        self._last_power_w = self._power()
        self._last_t = now
        return energy_j, COUNTER

    def _advance_sampled(self, now: float) -> tuple[float, str]:
        power = self._power()
        if power is None:
            raise SensorError(f"NVML gives no power reading for {self.device} ({self.target.name})")
        previous = self._last_power_w if self._last_power_w is not None else power
        energy = (previous + power) / 2 * max(0.0, now - self._last_t) * self.target.share
        self._last_power_w = power
        self._last_t = now
        self._good_t = now
        return energy, SAMPLED

    def next_poll_s(self) -> float:
        return self._interval_s if self.method == SAMPLED else SANITY_WINDOW_S

    def last_good_t(self) -> float:
        return self._good_t

    def process_share(self, pids: Iterable[int]) -> float | None:
        """Share of the GPU's SM utilisation by ``pids`` since the last call (None: keep the last share).

        NVML keeps per-process utilisation samples; with no new sample since the last call the previous share
        stands. Where NVML has never given samples, the share of GPU memory held by ``pids`` is used instead.
        """
        ours = set(pids)
        nvml = self._nvml
        try:
            samples = nvml.nvmlDeviceGetProcessUtilization(self._handle, self._process_ts)
        except Exception:  # noqa: BLE001 - NotFound when no process ran since the timestamp
            samples = []
        if samples:
            self._process_ts = max(s.timeStamp for s in samples)
            total = sum(s.smUtil for s in samples)
            if total > 0:
                self._had_samples = True
                return sum(s.smUtil for s in samples if s.pid in ours) / total
        if self._had_samples:
            return None
        try:
            processes = nvml.nvmlDeviceGetComputeRunningProcesses(self._handle)
        except Exception:  # noqa: BLE001
            return None
        memory = {p.pid: (p.usedGpuMemory or 0) for p in processes}
        total_memory = sum(memory.values())
        if not memory:
            return 0.0
        if total_memory <= 0:
            return sum(1 for pid in memory if pid in ours) / len(memory)
        return sum(m for pid, m in memory.items() if pid in ours) / total_memory

    def info(self) -> DeviceInfo:
        detail = f"NVML index {self.target.nvml_index}, {self.target.uuid}"
        if self.target.mig_uuid:
            detail += (
                f"; MIG slice {self.target.mig_uuid}: NVML measures the whole GPU, this slice is charged "
                f"{self.target.share:.0%} of it (its share of the GPU's slices)"
            )
        return DeviceInfo(
            component="gpu",
            device=self.device,
            model=self.target.name,
            source="nvml",
            power_limit_w=self.power_limit_w,
            detail=detail,
        )


def probe(
    *, module: Any = None, visible: str | None = None, interval_s: float, start_t: float
) -> ProbeResult:
    """The visible NVIDIA GPUs as sensors; no driver, no library or no GPU gives an empty result and a note."""
    if module is None and not os.environ.get(ENV_MODULE) and not driver_present():
        return ProbeResult([], [], frozenset())
    try:
        nvml = load_nvml(module)
    except Exception as error:  # noqa: BLE001 - ImportError, NVMLError_LibraryNotFound, DriverNotLoaded
        return ProbeResult([], [f"An NVIDIA driver is present but NVML could not be used: {error}"], frozenset())
    notes: list[str] = []
    try:
        targets, notes = resolve_visible(nvml, visible)
    except Exception as error:  # noqa: BLE001
        return ProbeResult([], [f"NVML could not list the GPUs: {error}"], frozenset())
    sensors: list[Sensor] = []
    for item in targets:
        try:
            sensor = NvidiaGpuSensor(nvml, item, interval_s=interval_s, start_t=start_t)
        except Exception as error:  # noqa: BLE001
            notes.append(f"{item.label} ({item.name}) could not be measured: {error}")
            continue
        if sensor.counter_note:
            notes.append(sensor.counter_note)
        sensors.append(sensor)
    _log.debug("NVML: %d GPU(s) measured", len(sensors))
    return ProbeResult(sensors, notes, frozenset({"gpu"} if sensors else ()))


def probe_family(context: SensorContext) -> ProbeResult:
    """The registry's probe: the GPUs ``CUDA_VISIBLE_DEVICES`` shows."""
    config = context.config
    return probe(module=config.nvml, visible=context.environ.get("CUDA_VISIBLE_DEVICES"),
                 interval_s=config.interval_s, start_t=context.start_t)


def diagnose(context: SensorContext) -> list[Diagnosis]:
    """Whether NVML loads, and how each visible GPU is measured (counter, or sampled power on older boards)."""
    module = context.config.nvml
    if not nvidia_possible(module):
        return [Diagnosis("nvidia", MISSING, "no NVIDIA driver loaded (/proc/driver/nvidia/version, /dev/nvidiactl)")]
    try:
        nvml = load_nvml(module)
    except ImportError:
        return [Diagnosis("nvidia", ERROR, "an NVIDIA driver is loaded but the nvidia-ml-py package is missing",
                          "pip install nvidia-ml-py")]
    except Exception as error:  # noqa: BLE001 - NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return [Diagnosis("nvidia", ERROR, f"NVML cannot be initialised: {error}",
                          "check that libnvidia-ml.so is installed and matches the kernel driver (nvidia-smi must "
                          "work); in a container, run it with the NVIDIA container toolkit (--gpus all)")]
    targets, notes = resolve_visible(nvml, context.environ.get("CUDA_VISIBLE_DEVICES"))
    found = [Diagnosis("nvidia", WARN, note) for note in notes]
    if not targets:
        found.append(Diagnosis("nvidia", MISSING, "NVML works but no GPU is visible (CUDA_VISIBLE_DEVICES?)"))
    for target in targets:
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(target.handle)
            how, status = "total-energy counter", OK
        except Exception:  # noqa: BLE001
            how, status = "no energy counter (older than Volta): power is sampled", WARN
        mig = f", MIG slice {target.mig_uuid} ({target.share:.0%} of the GPU)" if target.mig_uuid else ""
        found.append(Diagnosis("nvidia", status, f"{target.label}: {target.name} ({target.uuid}){mig}: {how}"))
    return found
