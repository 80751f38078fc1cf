"""AMD GPUs through ``amdsmi`` (ROCm), when it imports: the energy accumulator times its resolution.

Visible devices follow ``ROCR_VISIBLE_DEVICES``, then ``HIP_VISIBLE_DEVICES``, then ``CUDA_VISIBLE_DEVICES``
(indices or UUIDs), as ROCm does. Where the accumulator is unsupported (virtual machine guests), power is
sampled and integrated.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from wattprint.core.methods import COUNTER, SAMPLED, DeviceInfo
from wattprint.sensors.base import ProbeResult, Sensor, SensorError
from wattprint.sensors.family import ERROR, GPU, MISSING, OK, WARN, Diagnosis, SensorContext
from wattprint.sensors.presence import AMDSMI_MODULE_VARIABLE, amd_driver_present, amd_possible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_MODULE = AMDSMI_MODULE_VARIABLE
VISIBLE_VARIABLES = ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
UNCERTAINTY = {COUNTER: 0.1, SAMPLED: 0.15}

_initialised: dict[int, int] = {}


def driver_present() -> bool:
    return amd_driver_present()


def load_amdsmi(module: Any = None) -> Any:
    if module is None:
        module = importlib.import_module(os.environ.get(ENV_MODULE) or "amdsmi")
    if _initialised.get(id(module)) != os.getpid():
        module.amdsmi_init()
        _initialised[id(module)] = os.getpid()
    return module


def _number(value: Any) -> float | None:
    """amdsmi reports unsupported fields as 'N/A' or UINT32_MAX."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 0xFFFFFFFF:
        return float(value)
    return None


def _power_w(info: Mapping[str, Any]) -> float | None:
    for key in ("current_socket_power", "average_socket_power", "socket_power"):
        value = _number(info.get(key))
        if value is not None and value > 0:
            return value
    return None


def visible_selection(environ: Mapping[str, str]) -> str | None:
    for name in VISIBLE_VARIABLES:
        if name in environ:
            return environ[name]
    return None


class AmdGpuSensor(Sensor):
    def __init__(self, smi: Any, handle: Any, label: str, *, interval_s: float, start_t: float) -> None:
        self._smi = smi
        self._handle = handle
        self.device = label
        self.component = "gpu"
        try:
            self.uuid = str(smi.amdsmi_get_gpu_device_uuid(handle))
        except Exception:  # noqa: BLE001
            self.uuid = label
        self.key = f"amdsmi:{self.uuid}"
        self.group = self.key
        self.uncertainty_by_method = dict(UNCERTAINTY)
        try:
            self.name = str(smi.amdsmi_get_gpu_asic_info(handle).get("market_name") or "AMD GPU")
        except Exception:  # noqa: BLE001
            self.name = "AMD GPU"
        self._interval_s = interval_s
        self._last_t = start_t
        self.power_limit_w = self._power_limit()
        self._last_power = self._power()
        try:
            self._last_j: float | None = self._energy_j()
            self.method = COUNTER
        except Exception:  # noqa: BLE001 - not supported on VM guests
            self._last_j = None
            self.method = SAMPLED

    def _energy_j(self) -> float:
        data = self._smi.amdsmi_get_energy_count(self._handle)
        raw = data.get("energy_accumulator", data.get("power"))
        return float(raw) * float(data["counter_resolution"]) / 1e6

    def _power(self) -> float | None:
        try:
            return _power_w(self._smi.amdsmi_get_power_info(self._handle))
        except Exception:  # noqa: BLE001
            return None

    def _power_limit(self) -> float | None:
        try:
            limit = _number(self._smi.amdsmi_get_power_info(self._handle).get("power_limit"))
        except Exception:  # noqa: BLE001
            return None
        if limit is None or limit <= 0:
            return None
        return limit / 1e6 if limit > 100_000 else limit  # newer ROCm reports microwatts

    def advance(self, now: float) -> tuple[float, str]:
        try:
            if self.method == COUNTER:
                value = self._energy_j()
                assert self._last_j is not None
                delta = max(0.0, value - self._last_j)
                self._last_j = value
                self._last_t = now
                return delta, COUNTER
            power = self._power()
            if power is None:
                raise SensorError(f"amdsmi gives no power reading for {self.device} ({self.name})")
            previous = self._last_power if self._last_power is not None else power
            energy = (previous + power) / 2 * max(0.0, now - self._last_t)
            self._last_power, self._last_t = power, now
            return energy, SAMPLED
        except SensorError:
            raise
        except Exception as error:  # noqa: BLE001
            raise SensorError(f"amdsmi stopped answering for {self.device} ({self.name}): {error}") from error

    def next_poll_s(self) -> float | None:
        return self._interval_s if self.method == SAMPLED else None

    def last_good_t(self) -> float:
        return self._last_t

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            component="gpu", device=self.device, model=self.name, source="amdsmi",
            power_limit_w=self.power_limit_w, detail=self.uuid,
        )


def probe(
    *, module: Any = None, environ: Mapping[str, str] | None = None, interval_s: float, start_t: float
) -> ProbeResult:
    """The visible AMD GPUs as sensors; nothing (and no import) when no AMD GPU driver is loaded."""
    environ = os.environ if environ is None else environ
    if module is None and not environ.get(ENV_MODULE) and not driver_present():
        return ProbeResult([], [], frozenset())
    try:
        smi = load_amdsmi(module)
        handles = list(smi.amdsmi_get_processor_handles())
    except Exception as error:  # noqa: BLE001
        return ProbeResult([], [f"An AMD GPU driver is present but amdsmi could not be used: {error}"], frozenset())
    selection = visible_selection(environ)
    notes: list[str] = []
    chosen = handles
    if selection is not None:
        chosen = []
        for token in (t.strip() for t in selection.split(",")):
            if token.isdigit() and int(token) < len(handles):
                chosen.append(handles[int(token)])
                continue
            matches = [h for h in handles if _uuid(smi, h).startswith(token)] if token else []
            if len(matches) != 1:
                if token:
                    notes.append(f"Visible-device entry {token!r} matches no AMD GPU; later entries are ignored.")
                break
            chosen.append(matches[0])
    sensors: list[Sensor] = []
    for position, handle in enumerate(chosen):
        sensor = AmdGpuSensor(smi, handle, f"gpu:{position}", interval_s=interval_s, start_t=start_t)
        if sensor.method == SAMPLED:
            notes.append(f"{sensor.device} ({sensor.name}) has no energy counter here: its power is sampled.")
        sensors.append(sensor)
    return ProbeResult(sensors, notes, frozenset({"gpu"} if sensors else ()))


def _uuid(smi: Any, handle: Any) -> str:
    try:
        return str(smi.amdsmi_get_gpu_device_uuid(handle))
    except Exception:  # noqa: BLE001
        return ""


def probe_family(context: SensorContext) -> ProbeResult:
    """The registry's probe: the visible AMD GPUs, unless GPUs are measured already (NVIDIA's) and no amdsmi module
    was given: amdsmi is then not even imported."""
    config = context.config
    if config.amdsmi is None and GPU in context.covered:
        return ProbeResult([], [], frozenset())
    return probe(module=config.amdsmi, environ=context.environ, interval_s=config.interval_s, start_t=context.start_t)


def diagnose(context: SensorContext) -> list[Diagnosis]:
    """Whether amdsmi loads, and how each visible AMD GPU is measured."""
    module = context.config.amdsmi
    if not amd_possible(module):
        return [Diagnosis("amd", MISSING, "no AMD GPU driver (amdgpu / /dev/kfd)")]
    result = probe(module=module, environ=context.environ, interval_s=1.0, start_t=0.0)
    if not result.sensors and result.notes:
        return [Diagnosis("amd", ERROR, note, "install ROCm's amdsmi Python package (pip install 'wattprint[amd]')")
                for note in result.notes]
    found = [Diagnosis("amd", OK, f"{s.device}: {getattr(s, 'name', 'AMD GPU')} ({s.method})") for s in result.sensors]
    return found + [Diagnosis("amd", WARN, note) for note in result.notes]
