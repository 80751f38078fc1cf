"""The model path (no counters): real CPU-bound work on this machine, machine and process attribution."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

import wattprint
from wattprint.hardware.cpu import parse_cpuinfo, read_cpuinfo
from wattprint.sensors import model


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@dataclass(frozen=True)
class Spec:
    name: str
    tdp_w: float
    cores: int | None


XEON = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
physical id\t: 0
flags\t\t: fpu vme sse sse2
processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
physical id\t: 1
flags\t\t: fpu vme sse sse2
"""


def test_parse_cpuinfo() -> None:
    info = parse_cpuinfo(XEON)
    assert info.vendor == "GenuineIntel"
    assert info.model_name == "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
    assert (info.sockets, info.logical_cpus, info.virtualized) == (2, 2, False)
    vm = parse_cpuinfo(XEON.replace("sse2", "sse2 hypervisor"))
    assert vm.virtualized


def test_bare_metal_uses_tdp_times_sockets() -> None:
    power = model.cpu_power_model(parse_cpuinfo(XEON), lookup=lambda name: Spec("Xeon Gold 6248", 150, 20))
    assert power.max_w == 300
    assert power.idle_w == pytest.approx(0.21 * 300)
    assert power.uncertainty_rel == 0.4
    assert "Xeon Gold 6248" in power.basis and "2 socket" in power.basis


def test_virtual_machine_gets_its_share_of_the_host_cpu() -> None:
    cpu = parse_cpuinfo(XEON.replace("sse2", "sse2 hypervisor"))
    power = model.cpu_power_model(cpu, lookup=lambda name: Spec("Xeon Gold 6248", 150, 20))
    assert power.max_w == pytest.approx(2 * 150 / 40)  # 2 vCPUs of a 40-thread CPU
    assert "virtual machine" in power.basis


def test_unknown_cpu_gets_a_per_thread_default_and_says_so() -> None:
    power = model.cpu_power_model(parse_cpuinfo(XEON), lookup=lambda name: None)
    assert power.max_w == pytest.approx(2 * model.PER_THREAD_MAX_W)
    assert power.idle_w == pytest.approx(2 * model.PER_THREAD_IDLE_W)
    assert not power.known_model
    assert "not in the TDP table" in power.basis and "cpu_tdp_w" in power.basis
    assert power.uncertainty_rel == model.UNCERTAINTY_PER_THREAD


def test_user_given_power_wins() -> None:
    power = model.cpu_power_model(parse_cpuinfo(XEON), tdp_w=95, lookup=lambda name: None)
    assert (power.max_w, power.known_model) == (95, True)


def test_cpu_bound_work_on_this_machine_in_machine_attribution(model_only: dict[str, object]) -> None:
    cpu = read_cpuinfo()
    with wattprint.track(interval_s=0.1, **model_only) as run:
        with run.task("idle") as idle:
            time.sleep(0.6)
        with run.task("busy") as work:
            busy(1.0)
    sensor_power = model.cpu_power_model(cpu)
    span = sensor_power.max_w - sensor_power.idle_w
    busy_power = work.result.components["cpu"].avg_power_w
    idle_power = idle.result.components["cpu"].avg_power_w
    # one of this machine's logical CPUs was kept busy by this loop
    assert busy_power >= sensor_power.idle_w + span * (1 / cpu.logical_cpus) * 0.8
    assert busy_power <= sensor_power.max_w + 1e-9
    assert sensor_power.idle_w - 1e-9 <= idle_power <= busy_power + 1e-9  # equal only if others load the machine
    assert work.result.components["cpu"].method == "model"
    ram = work.result.components["ram"]
    assert ram.method == "model" and ram.avg_power_w > 0
    assert ram.uncertainty_rel == model.UNCERTAINTY_RAM
    hardware = {h.component: h for h in run.result.hardware}
    assert hardware["cpu"].source == "model" and hardware["cpu"].model == cpu.model_name


def test_process_attribution_charges_the_tree_its_share(model_only: dict[str, object]) -> None:
    machine = wattprint.Tracker(interval_s=0.1, **model_only).start()
    process = wattprint.Tracker(attribution="process", interval_s=0.1, **model_only).start()
    try:
        busy(1.0)
    finally:
        own = process.stop()
        everything = machine.stop()
    assert own is not None and everything is not None
    assert own.attribution == "process" and everything.attribution == "machine"
    assert 0 < own.components["cpu"].energy_j <= everything.components["cpu"].energy_j * 1.001
    # one busy thread: its share of the CPU time of all logical CPUs
    assert own.components["cpu"].energy_j >= 0.3 * everything.components["cpu"].energy_j
    # this process's resident memory is a small part of what is in use
    assert own.components["ram"].energy_j < everything.components["ram"].energy_j


def test_process_attribution_follows_child_processes(model_only: dict[str, object]) -> None:
    code = "import time\nend = time.perf_counter() + 1.0\nwhile time.perf_counter() < end: pass\n"
    with wattprint.track(attribution="process", interval_s=0.1, **model_only) as run:
        with run.task("child") as child:
            subprocess.run([sys.executable, "-c", code], check=True)
        with run.task("sleep") as sleeping:
            time.sleep(1.0)
    assert child.result.components["cpu"].energy_j > 3 * sleeping.result.components["cpu"].energy_j


def test_cgroup_attribution_on_this_machine(model_only: dict[str, object]) -> None:
    from wattprint.hardware.cgroup import find_cgroup

    if find_cgroup() is None or find_cgroup().cpu_dir is None:  # type: ignore[union-attr]
        with pytest.raises(wattprint.ConfigError, match="cgroup"):
            wattprint.Tracker(attribution="cgroup", **model_only)
        return
    with wattprint.track(attribution="cgroup", interval_s=0.1, **model_only) as run:
        busy(0.5)
    with wattprint.track(interval_s=0.1, **model_only) as whole:
        busy(0.5)
    assert run.result.attribution == "cgroup"
    assert 0 < run.result.components["cpu"].avg_power_w <= whole.result.components["cpu"].avg_power_w * 1.2
