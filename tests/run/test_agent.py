"""The machine agent: ``wattprint agent`` run as a real process on a free port, reading a powercap tree written by
the test whose counters advance at known powers, scraped and parsed with prometheus_client's parser; SIGTERM ends
it with 0; the top process trees and control groups (a cgroup tree written by the test); JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.sysfs import CounterDriver, write_zone
from tests.fakes.wait import wait_for
from wattprint.run.agent import Agent, cgroup_leaves
from wattprint.run.agent_metrics import AGENT_METRICS

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
PACKAGE_W, DRAM_W = 40.0, 5.0
BUSY = "import time\nwhile True: pass\n"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def rapl_tree(root: Path) -> tuple[str, Path, Path]:
    control = root / "powercap" / "intel-rapl"
    package = write_zone(control, "intel-rapl:0", "package-0", 0)
    dram = write_zone(control, "intel-rapl:0:0", "dram", 0, parent=package)
    return str(root / "powercap"), package, dram


def scrape(url: str) -> Samples:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def named(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (sample, labels), value in samples.items() if sample == name}


def device(component: str, name: str, method: str = "counter") -> tuple[tuple[str, str], ...]:
    return (("component", component), ("device", name), ("method", method))


@pytest.fixture
def agent_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATTPRINT_")}
    env.update(WATTPRINT_CONFIG=os.devnull, WATTPRINT_GPUS="false", WATTPRINT_LOCATION="FR",
               WATTPRINT_STORE="off", XDG_DATA_HOME=str(tmp_path / "data"))
    return env


def test_the_agent_serves_the_machine_at_the_powers_of_its_counters(tmp_path: Path, agent_env: dict[str, str]) -> None:
    root, package, dram = rapl_tree(tmp_path)
    busy = subprocess.Popen([sys.executable, "-c", BUSY])  # a tree of this test's that draws CPU
    with CounterDriver({package: PACKAGE_W, dram: DRAM_W}, max_range_uj=262_143_328_850):
        agent = subprocess.Popen(
            [WATTPRINT, "agent", "--port", "0", "--interval", "1", "--top", "3", "--tree-root", str(os.getpid())],
            env={**agent_env, "WATTPRINT_POWERCAP_ROOT": root}, stderr=subprocess.PIPE, text=True)
        try:
            assert agent.stderr is not None
            line = agent.stderr.readline()
            assert "wattprint agent: serving http://127.0.0.1:" in line, line
            url = line.split("serving ", 1)[1].split()[0]
            first = wait_for(lambda: (s := scrape(url)) and named(s, "wattprint_agent_interval_seconds") and s,
                             "the agent's first reading")
            energy = named(first, "wattprint_machine_energy_joules_total")
            wait_for(lambda: named(scrape(url), "wattprint_machine_energy_joules_total")[device("cpu", "package-0")]
                     > energy[device("cpu", "package-0")] + PACKAGE_W, "the package counter advancing by 1 s")
            later = scrape(url)
            power = named(later, "wattprint_machine_power_watts")
            assert power[device("cpu", "package-0")] == pytest.approx(PACKAGE_W, rel=0.25)
            assert power[device("ram", "dram")] == pytest.approx(DRAM_W, rel=0.25)
            assert named(later, "wattprint_machine_energy_uncertainty_ratio")[device("cpu", "package-0")] < 0.1
            (emissions,) = named(later, "wattprint_machine_emissions_grams_total").values()
            assert emissions > 0
            (zone,) = named(later, "wattprint_grid_intensity_grams_per_kilowatt_hour")
            assert ("zone", "FR") in zone
            trees = named(later, "wattprint_process_power_watts")
            mine = {dict(labels)["pid"]: value for labels, value in trees.items()
                    if dict(labels)["component"] == "cpu"}
            assert str(busy.pid) in mine  # the busy tree is among the top 3 of this test's children
            assert 0 < mine[str(busy.pid)] <= power[device("cpu", "package-0")] + 1e-9
            assert all(dict(labels)["share"] == ("memory" if dict(labels)["component"] == "ram" else "cpu_time")
                       for labels in trees)
            assert {name for name, _ in later} <= set(AGENT_METRICS)
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=60) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
            busy.kill()
            busy.wait()


def test_json_lines_and_a_count(tmp_path: Path, agent_env: dict[str, str]) -> None:
    root, package, dram = rapl_tree(tmp_path)
    with CounterDriver({package: PACKAGE_W, dram: DRAM_W}, max_range_uj=262_143_328_850):
        done = subprocess.run([WATTPRINT, "agent", "--json", "--count", "2", "--interval", "0.5"],
                              env={**agent_env, "WATTPRINT_POWERCAP_ROOT": root}, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 2 and "serving" not in done.stderr  # --json without --port: no endpoint
    devices = {d["device"]: d for d in lines[1]["devices"]}
    assert devices["package-0"]["method"] == "counter"
    assert devices["package-0"]["power_w"] == pytest.approx(PACKAGE_W, rel=0.25)
    assert lines[1]["energy_j"] > lines[0]["energy_j"] and lines[1]["duration_s"] > lines[0]["duration_s"]


@pytest.mark.parametrize(("options", "message"), [
    (("--cgroups",), "--cgroups chooses what --top shows"),
    (("--interval", "0"), "--interval must be a number of seconds above 0"),
    (("--top", "-1"), "--top must be 0 or more"),
    (("--port", "70000"), "--port must be between 0 and 65535"),
])
def test_usage_errors_name_the_option(options: tuple[str, ...], message: str, agent_env: dict[str, str]) -> None:
    done = subprocess.run([WATTPRINT, "agent", *options], env=agent_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_top_control_groups_by_their_share_of_cpu_time(tmp_path: Path, no_rapl: str) -> None:
    root = tmp_path / "cgroup"
    write(root / "cgroup.controllers", "cpu memory\n")
    for group in ("system.slice/busy.service", "system.slice/idle.service", "user.slice"):
        write(root / group / "cpu.stat", "usage_usec 0\n")
        write(root / group / "memory.current", "1048576\n")
    write(root / "system.slice" / "cpu.stat", "usage_usec 0\n")
    assert sorted(Path(p.cpu_dir or "").relative_to(root).as_posix() for p in cgroup_leaves(str(root))) == [
        "system.slice/busy.service", "system.slice/idle.service", "user.slice"]
    agent = Agent(interval_s=0.5, top=2, cgroups=True, cgroup_root=str(root), powercap_root=no_rapl, gpus=False,
                  location="FR").start()
    try:
        agent.step()  # every group seen once: their CPU time from here on is measured
        write(root / "system.slice/busy.service/cpu.stat", "usage_usec 100000\n")  # 0.1 s more; the others none
        time.sleep(0.3)
        reading = agent.step()
    finally:
        agent.close()
    names = [unit.name for unit in reading.units if unit.component == "cpu"]
    assert len(names) == 2 and names[0] == "/system.slice/busy.service"  # the top 2, the busy one first
    busy = {u.component: u for u in reading.units if u.name == "/system.slice/busy.service"}
    assert 0 < busy["cpu"].power_w <= sum(d.power_w for d in reading.devices if d.component == "cpu") + 1e-9
    assert busy["ram"].power_w > 0  # a share of the memory in use
    others = [u for u in reading.units if u.name != "/system.slice/busy.service" and u.component == "cpu"]
    assert all(u.power_w == 0 for u in others)


def test_the_agent_over_opentelemetry(tmp_path: Path) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from wattprint.run.agent_metrics import otlp

    root, package, dram = rapl_tree(tmp_path)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    with CounterDriver({package: PACKAGE_W, dram: DRAM_W}, max_range_uj=262_143_328_850):
        agent = Agent(interval_s=0.5, powercap_root=root, gpus=False, location="FR").start()
        exporter = otlp(agent, provider)
        try:
            time.sleep(0.6)
            reading = agent.step()
            data = reader.get_metrics_data()
        finally:
            exporter.close()
            agent.close()
            provider.shutdown()
    points: dict[str, dict[tuple[tuple[str, object], ...], float]] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    points.setdefault(metric.name, {})[tuple(sorted(point.attributes.items()))] = point.value
    package_key = (("hw.id", "package-0"), ("hw.type", "cpu"), ("wattprint.component", "cpu"),
                   ("wattprint.method", "counter"))
    (device,) = [d for d in reading.devices if d.device == "package-0"]
    assert points["hw.energy"][package_key] == pytest.approx(device.energy_j, rel=1e-9)
    assert points["hw.power"][package_key] == pytest.approx(device.power_w, rel=1e-9)
    ((_, host_j),) = points["hw.host.energy"].items()
    assert host_j == pytest.approx(reading.energy_j, rel=1e-9)
    assert reading.emissions_g is not None
    assert points["wattprint.emissions"][()] == pytest.approx(reading.emissions_g, rel=1e-9)
