"""NVIDIA GPUs through a fake NVML library (the real one needs a GPU this machine does not have)."""

from __future__ import annotations

import time

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeMig, FakeNvml, Process, Sample
from wattprint.sensors import nvidia

UUID_A = "GPU-aaaaaaaa-1111-2222-3333-444444444444"
UUID_B = "GPU-bbbbbbbb-1111-2222-3333-444444444444"


@pytest.fixture(autouse=True)
def _all_gpus_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def two_gpus(**kwargs: object) -> FakeNvml:
    return FakeNvml([FakeGpu(uuid=UUID_A, power_w=300.0, **kwargs), FakeGpu(uuid=UUID_B, power_w=150.0, **kwargs)])


def track_gpus(fake: FakeNvml, model_only: dict[str, object], **kwargs: object) -> wattprint.Tracker:
    return wattprint.Tracker(nvml=fake, powercap_root=model_only["powercap_root"], **kwargs)


def test_energy_counter_at_window_edges(model_only: dict[str, object]) -> None:
    fake = two_gpus()
    with track_gpus(fake, model_only) as run:
        with run.task("a") as window:
            time.sleep(0.3)
        time.sleep(0.1)
    gpu = window.result.components["gpu"]
    assert gpu.method == "counter"
    assert gpu.avg_power_w == pytest.approx(450.0, rel=0.01)
    devices = {d.device: d for d in window.result.devices if d.component == "gpu"}
    assert devices["gpu:0"].avg_power_w == pytest.approx(300.0, rel=0.01)
    assert devices["gpu:1"].avg_power_w == pytest.approx(150.0, rel=0.01)
    assert devices["gpu:0"].uncertainty_rel == 0.05
    run_gpu = run.result.components["gpu"]
    assert run_gpu.energy_j == pytest.approx(450.0 * run.result.duration_s, rel=0.01)
    infos = [h for h in run.result.hardware if h.component == "gpu"]
    assert [(h.model, h.power_limit_w) for h in infos] == [("NVIDIA H100 80GB HBM3", 700.0)] * 2
    assert run.result.gpu_count == 2
    # counters are read at edges, not polled: a handful of reads, not one per millisecond
    assert fake.gpus[0].energy_calls < 20


def test_power_is_sampled_and_integrated_without_a_counter(model_only: dict[str, object]) -> None:
    ramp = FakeGpu(uuid=UUID_A, power_w=lambda t: 100.0 + 200.0 * t, has_counter=False, name="Tesla P100-PCIE-16GB")
    fake = FakeNvml([ramp])
    with track_gpus(fake, model_only, interval_s=0.02) as run:
        time.sleep(0.5)
    result = run.result
    gpu = result.components["gpu"]
    assert gpu.method == "sampled"
    assert gpu.uncertainty_rel == pytest.approx(0.1)  # (an energy-weighted mean of the samples' 10 %)
    # true energy of the ramp over the run, from where the run began on the fake's clock (on a busy machine the
    # tracker may start well after the fake was made)
    begin = run._start.t_monotonic - ramp.t0
    end = begin + result.duration_s
    assert gpu.energy_j == pytest.approx(100 * (end - begin) + 100 * (end**2 - begin**2), rel=0.1)
    assert any("no total-energy counter" in n for n in result.notes)


def test_a_stuck_counter_fails_the_sanity_check_and_power_is_sampled(
    model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nvidia, "SANITY_WINDOW_S", 0.05)
    fake = FakeNvml([FakeGpu(uuid=UUID_A, power_w=250.0, stuck_counter=True)])
    with track_gpus(fake, model_only, interval_s=0.02) as run:
        time.sleep(0.6)
    device = next(d for d in run.result.devices if d.component == "gpu")
    assert device.method == "sampled"
    # the first ~0.1 s were lost to the stuck counter before the switch; the rest is measured
    assert 0.6 * 250 * run.result.duration_s < device.energy_j <= 250 * run.result.duration_s * 1.01
    assert any("sanity check" in n for n in run.result.notes)


def test_a_lost_gpu_is_dropped_without_raising(model_only: dict[str, object]) -> None:
    fake = FakeNvml([FakeGpu(uuid=UUID_A, power_w=200.0, lost_after_s=0.2)])
    with track_gpus(fake, model_only, interval_s=0.05) as run:
        with run.task("before") as before:
            time.sleep(0.1)
        time.sleep(0.3)
        with run.task("after") as after:
            time.sleep(0.05)
    assert before.result.components["gpu"].energy_j == pytest.approx(200 * before.result.duration_s, rel=0.05)
    assert after.result.components.get("gpu") is None or after.result.components["gpu"].energy_j == 0
    assert run.result.components["gpu"].energy_j > 0
    assert any("GPU is lost" in n and "No longer measured" in n for n in run.result.notes)


@pytest.mark.parametrize(
    ("visible", "expected"),
    [
        (None, [UUID_A, UUID_B]),
        ("1", [UUID_B]),
        ("1,0", [UUID_B, UUID_A]),
        ("GPU-bbbb", [UUID_B]),  # a unique UUID prefix, as CUDA accepts
        ("bbbbbbbb-1111", [UUID_B]),
        ("0,7,1", [UUID_A]),  # parsing stops at the first invalid entry
        ("GPU-", [],),  # ambiguous prefix: invalid
        ("", []),
        ("-1", []),
    ],
)
def test_cuda_visible_devices(visible: str | None, expected: list[str]) -> None:
    targets, _ = nvidia.resolve_visible(two_gpus(), visible)
    assert [t.uuid for t in targets] == expected
    assert [t.label for t in targets] == [f"gpu:{i}" for i in range(len(expected))]


def test_mig_slices_are_charged_their_share_of_the_parent(
    model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = FakeGpu(uuid=UUID_A, power_w=350.0, name="NVIDIA A100-SXM4-40GB")
    parent.migs = [
        FakeMig(parent, "MIG-11111111-aaaa-bbbb-cccc-dddddddddddd", slices=3, gpu_instance_id=1),
        FakeMig(parent, "MIG-22222222-aaaa-bbbb-cccc-dddddddddddd", slices=4, gpu_instance_id=2),
    ]
    fake = FakeNvml([parent])
    targets, _ = nvidia.resolve_visible(fake, "MIG-2222")
    assert [(t.mig_uuid, t.share) for t in targets] == [(parent.migs[1].uuid, pytest.approx(4 / 7))]
    legacy, _ = nvidia.resolve_visible(fake, f"MIG-{UUID_A}/1/0")
    assert [t.mig_uuid for t in legacy] == [parent.migs[0].uuid]

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with track_gpus(fake, model_only) as run:
        pass  # without CUDA_VISIBLE_DEVICES the whole GPU is measured
    assert run.result.components["gpu"].devices == ("gpu:0",)


def test_mig_slice_energy_through_the_tracker(model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    parent = FakeGpu(uuid=UUID_A, power_w=350.0)
    parent.migs = [FakeMig(parent, "MIG-11111111-aaaa-bbbb-cccc-dddddddddddd", slices=2, gpu_instance_id=1)]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-11111111")
    with wattprint.Tracker(nvml=FakeNvml([parent]), powercap_root=model_only["powercap_root"]) as run:
        time.sleep(0.2)
    gpu = run.result.components["gpu"]
    assert gpu.avg_power_w == pytest.approx(350.0 * 2 / 7, rel=0.02)
    info = next(h for h in run.result.hardware if h.component == "gpu")
    assert "MIG slice" in info.detail and "29%" in info.detail


def test_process_attribution_uses_nvml_per_process_utilisation(model_only: dict[str, object]) -> None:
    import os

    gpu = FakeGpu(uuid=UUID_A, power_w=400.0)
    gpu.samples = [Sample(pid=os.getpid(), timeStamp=10, smUtil=30), Sample(pid=999_999, timeStamp=11, smUtil=90)]
    with wattprint.Tracker(
        nvml=FakeNvml([gpu]), powercap_root=model_only["powercap_root"], attribution="process", interval_s=0.05
    ) as run:
        time.sleep(0.4)
    assert run.result.components["gpu"].avg_power_w == pytest.approx(400.0 * 30 / 120, rel=0.05)


def test_process_share_by_memory_when_nvml_has_no_samples() -> None:
    import os

    gpu = FakeGpu(uuid=UUID_A)
    gpu.processes = [Process(os.getpid(), 3_000_000_000), Process(12345, 1_000_000_000)]
    sensor = nvidia.NvidiaGpuSensor(FakeNvml([gpu]), nvidia.GpuTarget("gpu:0", gpu, UUID_A, 0, gpu.name),
                                    interval_s=1.0, start_t=time.monotonic())
    assert sensor.process_share([os.getpid()]) == pytest.approx(0.75)
    assert sensor.process_share([4242]) == 0.0


def test_no_driver_means_no_import_and_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(nvidia, "driver_present", lambda: False)
    monkeypatch.delenv(nvidia.ENV_MODULE, raising=False)
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    result = nvidia.probe(interval_s=1.0, start_t=0.0)
    assert result.sensors == [] and result.notes == []
    assert "pynvml" not in sys.modules


def test_nvml_module_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    fake = FakeNvml([FakeGpu(uuid=UUID_A)])
    module = types.ModuleType("wattprint_test_nvml")
    for name in dir(fake):
        if name.startswith("nvml") or name.startswith("NVML"):
            setattr(module, name, getattr(fake, name))
    monkeypatch.setitem(sys.modules, "wattprint_test_nvml", module)
    monkeypatch.setenv(nvidia.ENV_MODULE, "wattprint_test_nvml")
    result = nvidia.probe(interval_s=1.0, start_t=time.monotonic())
    assert [s.device for s in result.sensors] == ["gpu:0"]
    assert fake.init_calls == 1
