"""The model path (no counters): real CPU-bound work on this machine, machine and process attribution."""

from __future__ import annotations

import resource
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
    # Machine attribution includes whatever else loads the machine, so idle and busy windows are not compared
    # with each other: a process-attributed tracker over the same windows tells this loop from other tenants.
    # (no store: its writer thread, opening the store during the idle window, is this process's work too)
    cpu = read_cpuinfo()
    with wattprint.track(interval_s=0.1, store="off", **model_only) as run, \
            wattprint.track(attribution="process", interval_s=0.1, store="off", **model_only) as own:
        with run.task("idle") as idle, own.task("idle") as own_idle:
            time.sleep(0.6)
        with run.task("busy") as work, own.task("busy") as own_work:
            started, cpu_started = time.monotonic(), time.thread_time()
            busy(1.0)
            loop_share = (time.thread_time() - cpu_started) / (time.monotonic() - started)
    sensor_power = model.cpu_power_model(cpu)
    span = sensor_power.max_w - sensor_power.idle_w
    busy_power = work.result.components["cpu"].avg_power_w
    idle_power = idle.result.components["cpu"].avg_power_w
    # the machine's CPUs were at least as busy as this loop kept one of them (by the CPU time it got, which a VM's
    # host may take some of), whatever else ran
    assert busy_power >= sensor_power.idle_w + span * (loop_share / cpu.logical_cpus) * 0.8
    for power in (idle_power, busy_power):
        assert sensor_power.idle_w - 1e-9 <= power <= sensor_power.max_w + 1e-9
    # this process's share: the loop, not the sleep (other load cannot invert this)
    assert own_work.result.components["cpu"].energy_j > 3 * own_idle.result.components["cpu"].energy_j
    assert work.result.components["cpu"].method == "model"
    ram = work.result.components["ram"]
    assert ram.method == "model" and ram.avg_power_w > 0
    assert ram.uncertainty_rel == model.UNCERTAINTY_RAM
    hardware = {h.component: h for h in run.result.hardware}
    assert hardware["cpu"].source == "model" and hardware["cpu"].model == cpu.model_name


def test_process_attribution_charges_the_tree_its_share(model_only: dict[str, object]) -> None:
    # The tree's CPU energy is its share of the machine's capacity (its CPU time over elapsed time x logical
    # CPUs) times the machine's CPU power, which lies between idle and maximum power whatever else runs: the
    # bounds below hold on a busy machine, where this loop gets less than a whole CPU.
    cpu = read_cpuinfo()
    power = model.cpu_power_model(cpu)
    machine = wattprint.Tracker(interval_s=0.1, store="off", **model_only).start()
    process = wattprint.Tracker(attribution="process", interval_s=0.1, store="off", **model_only).start()
    used = time.process_time()
    try:
        busy(1.0)
    finally:
        used = time.process_time() - used
        own = process.stop()
        everything = machine.stop()
    assert own is not None and everything is not None
    assert own.attribution == "process" and everything.attribution == "machine"
    assert 0 < own.components["cpu"].energy_j <= everything.components["cpu"].energy_j * 1.001
    share_j = used / cpu.logical_cpus  # CPU-seconds of capacity used, before the power per unit of capacity
    assert 0.7 * share_j * power.idle_w <= own.components["cpu"].energy_j <= 1.3 * share_j * power.max_w
    # this process's resident memory is a small part of what is in use
    assert own.components["ram"].energy_j < everything.components["ram"].energy_j


def test_process_attribution_follows_child_processes(model_only: dict[str, object]) -> None:
    # The child does a fixed amount of CPU work (not a fixed time, which a busy machine would shrink), and the
    # tree's energy is checked against the CPU time the child used: other load cannot make that bound fail.
    code = "import time\nwhile time.process_time() < 0.6: pass\n"
    power = model.cpu_power_model(read_cpuinfo())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with wattprint.track(attribution="process", interval_s=0.1, store="off", **model_only) as run:
        with run.task("child") as child:
            subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert child_cpu_s >= 0.6
    # charged at least its share of the capacity at idle power (unfollowed, only this process's few
    # milliseconds of CPU time would be charged)
    floor_j = 0.7 * child_cpu_s / read_cpuinfo().logical_cpus * power.idle_w
    assert child.result.components["cpu"].energy_j >= floor_j


def test_cgroup_attribution_on_this_machine(model_only: dict[str, object]) -> None:
    from wattprint.hardware.cgroup import find_cgroup

    if find_cgroup() is None or find_cgroup().cpu_dir is None:  # type: ignore[union-attr]
        with pytest.raises(wattprint.ConfigError, match="cgroup"):
            wattprint.Tracker(attribution="cgroup", **model_only)
        return
    # measured within the machine's run: the container's share never exceeds the machine, whatever else runs
    with wattprint.track(interval_s=0.1, store="off", **model_only) as whole, \
            wattprint.track(attribution="cgroup", interval_s=0.1, store="off", **model_only) as run:
        busy(0.5)
    assert run.result.attribution == "cgroup"
    assert 0 < run.result.components["cpu"].energy_j <= whole.result.components["cpu"].energy_j * 1.001
