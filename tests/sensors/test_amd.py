"""AMD GPUs through a fake amdsmi module (the real one needs an AMD GPU)."""

from __future__ import annotations

import sys
import time

import pytest

import wattprint
from wattprint.sensors import amd


class FakeAmdSmi:
    def __init__(self, power_w: float, counter: bool = True, resolution_uj: float = 15.3) -> None:
        self.power_w = power_w
        self.counter = counter
        self.resolution = resolution_uj
        self.t0 = time.monotonic()

    def amdsmi_init(self) -> None:
        pass

    def amdsmi_get_processor_handles(self) -> list[str]:
        return ["handle-0"]

    def amdsmi_get_gpu_device_uuid(self, handle: str) -> str:
        return "1fff74a1-0000-1000-80e9-b8f3a7b5ba11"

    def amdsmi_get_gpu_asic_info(self, handle: str) -> dict[str, str]:
        return {"market_name": "AMD Instinct MI300X"}

    def amdsmi_get_energy_count(self, handle: str) -> dict[str, float]:
        if not self.counter:
            raise RuntimeError("AMDSMI_STATUS_NOT_SUPPORTED")
        joules = self.power_w * (time.monotonic() - self.t0)
        return {"energy_accumulator": int(joules * 1e6 / self.resolution), "counter_resolution": self.resolution,
                "timestamp": 0}

    def amdsmi_get_power_info(self, handle: str) -> dict[str, object]:
        return {"current_socket_power": self.power_w, "average_socket_power": "N/A", "power_limit": 750}


@pytest.mark.parametrize(("counter", "method"), [(True, "counter"), (False, "sampled")])
def test_amd_gpu_energy(counter: bool, method: str, no_rapl: str) -> None:
    fake = FakeAmdSmi(power_w=500.0, counter=counter)
    with wattprint.Tracker(amdsmi=fake, nvml=None, powercap_root=no_rapl, interval_s=0.02) as run:
        time.sleep(0.3)
    gpu = run.result.components["gpu"]
    assert gpu.method == method
    assert gpu.avg_power_w == pytest.approx(500.0, rel=0.02)
    info = next(h for h in run.result.hardware if h.component == "gpu")
    assert (info.model, info.power_limit_w, info.source) == ("AMD Instinct MI300X", 750.0, "amdsmi")


def test_visible_devices_follow_rocm_precedence() -> None:
    env = {"CUDA_VISIBLE_DEVICES": "1", "HIP_VISIBLE_DEVICES": "0"}
    assert amd.visible_selection(env) == "0"
    assert amd.visible_selection({"ROCR_VISIBLE_DEVICES": "2", **env}) == "2"
    result = amd.probe(module=FakeAmdSmi(100.0), environ={"ROCR_VISIBLE_DEVICES": "5"}, interval_s=1.0, start_t=0.0)
    assert result.sensors == [] and "matches no AMD GPU" in result.notes[0]


def test_no_driver_no_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amd, "driver_present", lambda: False)
    monkeypatch.delenv(amd.ENV_MODULE, raising=False)
    monkeypatch.delitem(sys.modules, "amdsmi", raising=False)
    assert amd.probe(environ={}, interval_s=1.0, start_t=0.0).sensors == []
    assert "amdsmi" not in sys.modules
