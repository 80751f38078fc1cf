"""Check wattprint's NVIDIA path against real NVML on a machine with a GPU. Prints figures; asserts nothing.

    python bench/bench_nvml.py [--seconds 20] [--gpu 0]

1. Cost of one NVML read (total-energy counter, power) and of one wattprint task window on the GPU.
2. Energy of a GPU workload (PyTorch matrix products, if torch is installed; else an idle GPU) three ways over
   the same interval: wattprint's tracker (counter at the edges), the counter read directly, and NVML power
   sampled every 10 ms and integrated by a separate thread.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time


def read_cost_us(function, handle, n: int = 2000) -> float:  # noqa: ANN001
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        function(handle)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


class PowerIntegrator(threading.Thread):
    """Samples NVML power every ``period_s`` and integrates it (trapezoids)."""

    def __init__(self, nvml, handle, period_s: float) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.nvml, self.handle, self.period_s = nvml, handle, period_s
        self.energy_j = 0.0
        self.samples = 0
        self._stop = threading.Event()

    def run(self) -> None:
        last_t = time.monotonic()
        last_p = self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000
        while not self._stop.wait(self.period_s):
            now = time.monotonic()
            power = self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000
            self.energy_j += (last_p + power) / 2 * (now - last_t)
            last_t, last_p = now, power
            self.samples += 1

    def stop(self) -> float:
        self._stop.set()
        self.join()
        return self.energy_j


def workload(seconds: float, gpu: int) -> str:
    try:
        import torch
    except ImportError:
        time.sleep(seconds)
        return "idle GPU (torch not installed)"
    device = torch.device(f"cuda:{gpu}")
    a = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for _ in range(20):
            a @ b
        torch.cuda.synchronize(device)
        n += 20
    return f"{n} bf16 8192^3 matrix products"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--gpu", type=int, default=0)
    options = parser.parse_args()

    import pynvml as nvml

    import wattprint

    nvml.nvmlInit()
    handle = nvml.nvmlDeviceGetHandleByIndex(options.gpu)
    name = nvml.nvmlDeviceGetName(handle)
    print(f"GPU {options.gpu}: {name}, driver {nvml.nvmlSystemGetDriverVersion()}")
    energy_us = read_cost_us(nvml.nvmlDeviceGetTotalEnergyConsumption, handle)
    power_us = read_cost_us(nvml.nvmlDeviceGetPowerUsage, handle)
    print(f"read nvmlDeviceGetTotalEnergyConsumption: {energy_us:.1f} us")
    print(f"read nvmlDeviceGetPowerUsage:             {power_us:.1f} us")

    with wattprint.track(name="window-cost") as run:
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            with run.task("w"):
                pass
        print(f"one wattprint task window with this GPU:  {(time.perf_counter() - start) / n * 1e6:.1f} us")

    for label, seconds in (("idle", min(5.0, options.seconds)), ("load", options.seconds)):
        sampler = PowerIntegrator(nvml, handle, 0.01)
        counter_start = nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        t0 = time.monotonic()
        sampler.start()
        with wattprint.track(name=label, interval_s=1.0) as run:
            what = workload(seconds, options.gpu) if label == "load" else (time.sleep(seconds) or "idle")
        sampled = sampler.stop()
        elapsed = time.monotonic() - t0
        counter = (nvml.nvmlDeviceGetTotalEnergyConsumption(handle) - counter_start) / 1000
        gpu = next(d for d in run.result.devices if d.component == "gpu" and d.device == f"gpu:{options.gpu}")
        print(f"\n{label}: {what}, {elapsed:.1f} s")
        print(f"  wattprint ({gpu.method}):          {gpu.energy_j:10.1f} J  {gpu.avg_power_w:7.1f} W")
        print(f"  counter read directly:         {counter:10.1f} J  {counter / elapsed:7.1f} W")
        print(f"  power sampled every 10 ms:     {sampled:10.1f} J  {sampled / elapsed:7.1f} W  "
              f"({sampler.samples} samples)")
        print(f"  counter / sampled:             {counter / sampled if sampled else float('nan'):10.3f}")
        print(f"  wattprint notes: {list(run.result.notes)}")


if __name__ == "__main__":
    main()
