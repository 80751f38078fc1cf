"""RAPL through powercap, against sysfs trees written by the tests."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import CounterDriver, set_energy, two_socket_tree, write_zone
from wattprint.hardware.cpu import read_cpuinfo
from wattprint.sensors import SensorConfig, probe, rapl
from wattprint.sensors.base import SensorError


def test_discovery_reads_packages_and_dram_never_core_or_uncore(tmp_path: Path) -> None:
    two_socket_tree(tmp_path)
    zones = rapl.discover_zones([str(tmp_path)])
    assert {z.name for z in zones} == {"package-0", "package-1", "psys", "core", "uncore", "dram"}
    dram = [z for z in zones if z.domain == "dram"]
    assert sorted(z.socket for z in dram) == [0, 1]  # sub-zones inherit their package's socket

    chosen, notes = rapl.select_zones(zones)
    assert sorted((z.control, z.name, z.socket) for z in chosen) == [
        ("intel-rapl", "dram", 0),
        ("intel-rapl", "dram", 1),
        ("intel-rapl", "package-0", 0),
        ("intel-rapl", "package-1", 1),
    ]
    assert any("intel-rapl-mmio:0" in n and "duplicates" in n for n in notes)


def test_the_two_kernel_paths_show_each_zone_once(tmp_path: Path) -> None:
    devices = tmp_path / "devices"
    two_socket_tree(devices)
    flat = tmp_path / "class"
    flat.mkdir()
    for zone in ("intel-rapl:0", "intel-rapl:1", "intel-rapl:2"):
        (flat / zone).symlink_to(devices / "intel-rapl" / zone)
    for zone in ("intel-rapl:0:0", "intel-rapl:0:2", "intel-rapl:1:2"):
        socket = zone.split(":")[1]
        (flat / zone).symlink_to(devices / "intel-rapl" / f"intel-rapl:{socket}" / zone)
    zones = rapl.discover_zones([str(flat), str(devices)])
    ids = [z.zone_id for z in zones]
    assert len(ids) == len(set(ids))
    assert {"intel-rapl:0", "intel-rapl:1", "intel-rapl:0:2", "intel-rapl:1:2"} <= set(ids)


def test_mmio_zone_is_kept_when_there_is_no_msr_copy(tmp_path: Path) -> None:
    write_zone(tmp_path / "intel-rapl-mmio", "intel-rapl-mmio:0", "package-0", 5)
    chosen, notes = rapl.select_zones(rapl.discover_zones([str(tmp_path)]))
    assert [(z.control, z.name) for z in chosen] == [("intel-rapl-mmio", "package-0")]
    assert notes == []


def test_mirrored_die_counters_are_read_once_but_distinct_dies_add_up(tmp_path: Path) -> None:
    mirrored = tmp_path / "mirrored" / "intel-rapl"
    write_zone(mirrored, "intel-rapl:0", "package-0-die-0", 777_000)
    write_zone(mirrored, "intel-rapl:1", "package-0-die-1", 777_000)
    chosen, notes = rapl.select_zones(rapl.discover_zones([str(tmp_path / "mirrored")]))
    assert [z.name for z in chosen] == ["package-0-die-0"]
    assert any("mirror" in n for n in notes)

    distinct = tmp_path / "distinct" / "intel-rapl"
    write_zone(distinct, "intel-rapl:0", "package-0-die-0", 111_000)
    write_zone(distinct, "intel-rapl:1", "package-0-die-1", 222_000)
    chosen, _ = rapl.select_zones(rapl.discover_zones([str(tmp_path / "distinct")]))
    assert [z.name for z in chosen] == ["package-0-die-0", "package-0-die-1"]


def test_psys_on_request_replaces_package_and_dram(tmp_path: Path) -> None:
    two_socket_tree(tmp_path)
    zones = rapl.discover_zones([str(tmp_path)])
    chosen, _ = rapl.select_zones(zones, ("psys",))
    assert [z.name for z in chosen] == ["psys"]


def test_psys_is_used_when_nothing_else_exists(tmp_path: Path) -> None:
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "psys", 5)
    result = probe(SensorConfig(powercap_root=str(tmp_path), gpus=False), time.monotonic())
    components = sorted(s.component for s in result.sensors)
    assert components == ["platform"]  # psys covers CPU and RAM: no model is added on top
    for sensor in result.sensors:
        sensor.close()


def test_wrap_between_two_reads(tmp_path: Path) -> None:
    zone_dir = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 900_000, max_range_uj=1_000_000)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    sensor = rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)
    set_energy(zone_dir, 100_000)  # wrapped once: 100 000 to the end of the range, 100 000 after
    energy, method = sensor.advance(1.0)
    assert method == "counter"
    assert energy == pytest.approx(0.2)
    set_energy(zone_dir, 350_000)
    assert sensor.advance(2.0)[0] == pytest.approx(0.25)
    sensor.close()


def test_poll_interval_keeps_well_inside_a_wrap_period(tmp_path: Path) -> None:
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 0, max_range_uj=262_143_328_850,
               power_limit_uw=125_000_000)
    write_zone(tmp_path / "intel-rapl", "intel-rapl:1", "package-1", 0, max_range_uj=262_143_328_850)
    limited, unlimited = rapl.discover_zones([str(tmp_path)])
    # 262 kJ at twice the 125 W limit wraps in 1049 s: read at least every quarter of that
    sensor = rapl.RaplSensor(limited, vendor="GenuineIntel", start_t=0.0)
    assert sensor.next_poll_s() == pytest.approx(0.25 * 262_143.32885 / 250)
    # no stated limit: assume 1 kW
    other = rapl.RaplSensor(unlimited, vendor="GenuineIntel", start_t=0.0)
    assert other.next_poll_s() == pytest.approx(0.25 * 262_143.32885 / 1000)
    sensor.close()
    other.close()


def test_many_wraps_between_window_edges_are_all_counted(tmp_path: Path) -> None:
    """A 1 J range at 10 W wraps every 0.1 s: a 0.6 s window sees about six wraps."""
    zones = {
        write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 0, max_range_uj=1_000_000,
                   power_limit_uw=10_000_000): 10.0,
        write_zone(tmp_path / "intel-rapl", "intel-rapl:1", "package-1", 0, max_range_uj=1_000_000,
                   power_limit_uw=10_000_000): 4.0,
    }
    with CounterDriver(zones, max_range_uj=1_000_000):
        with wattprint.track(powercap_root=str(tmp_path), gpus=False) as run:
            with run.task("window") as window:
                time.sleep(0.6)
    result = window.result
    assert result is not None
    cpu = result.components["cpu"]
    assert cpu.method == "counter"
    assert cpu.energy_j == pytest.approx(14.0 * result.duration_s, rel=0.03)
    by_device = {d.device: d for d in result.devices}
    assert by_device["package-0"].avg_power_w == pytest.approx(10.0, rel=0.03)
    assert by_device["package-1"].avg_power_w == pytest.approx(4.0, rel=0.03)
    vendor = read_cpuinfo().vendor or ""
    assert by_device["package-0"].uncertainty_rel == rapl.UNCERTAINTY["amd" if "AMD" in vendor else "intel"]["package"]
    assert "ram" in result.components and result.components["ram"].method == "model"  # no dram zone here


def test_two_packages_and_dram_measured_at_known_powers(tmp_path: Path) -> None:
    zones = two_socket_tree(tmp_path)
    powers = {zones["package-0"]: 60.0, zones["package-1"]: 40.0, zones["dram-0"]: 5.0, zones["dram-1"]: 3.0}
    with CounterDriver(powers, max_range_uj=262_143_328_850):
        with wattprint.track(powercap_root=str(tmp_path), gpus=False) as run:
            time.sleep(0.4)
    result = run.result
    assert result is not None
    assert set(result.components) == {"cpu", "ram"}
    assert result.components["cpu"].avg_power_w == pytest.approx(100.0, rel=0.03)
    assert result.components["ram"].avg_power_w == pytest.approx(8.0, rel=0.03)
    assert result.components["ram"].method == "counter"
    assert {d.device for d in result.devices} == {"package-0", "package-1", "dram"} or len(result.devices) == 4
    assert any("intel-rapl-mmio:0" in n for n in result.notes)
    rapl_infos = [h for h in result.hardware if h.source == "rapl"]
    assert len(rapl_infos) == 4


def test_a_counter_that_never_moves_falls_back_to_the_model_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rapl, "STALL_S", 0.2)
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 42)
    with wattprint.track(powercap_root=str(tmp_path), gpus=False, interval_s=0.05) as run:
        time.sleep(0.5)
    result = run.result
    assert result is not None
    methods = {d.device: d.method for d in result.devices}
    assert methods.get("cpu") == "model"
    assert result.components["cpu"].method == "model"
    assert result.components["cpu"].energy_j > 0
    stalled = [n for n in result.notes if "has not moved" in n]
    assert len(stalled) == 1
    assert sum("has not moved" in r.message for r in caplog.records) == 1


def _probe_as_unprivileged(root: str) -> tuple[list[str], list[str]]:
    """Probe as a user who may not read energy_uj: directly when not root, else in a forked child as nobody."""
    config = SensorConfig(powercap_root=root, gpus=False)
    if os.geteuid() != 0:
        result = probe(config, time.monotonic())
        for sensor in result.sensors:
            sensor.close()
        return [f"{s.component}:{s.method}" for s in result.sensors], result.notes
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody and report back through the pipe
        try:
            os.setgid(65534)
            os.setuid(65534)
            result = probe(config, time.monotonic())
            payload = "\x1e".join([",".join(f"{s.component}:{s.method}" for s in result.sensors), *result.notes])
            os.write(write_fd, payload.encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    sensors, *notes = data.decode().split("\x1e")
    return sensors.split(","), notes


def test_unreadable_counters_explain_the_fix_and_fall_back_to_the_model(tmp_path: Path) -> None:
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="wattprint-powercap-"))
    try:
        root.chmod(0o755)
        control = root / "intel-rapl"
        package = write_zone(control, "intel-rapl:0", "package-0", 1000)
        dram = write_zone(root, "intel-rapl:0:2", "dram", 10, parent=package)
        for path in (control, package, dram):
            path.chmod(0o755)
        for path in (package / "energy_uj", dram / "energy_uj"):
            path.chmod(0o400)  # root only, as the kernel has made it since 2020
        sensors, notes = _probe_as_unprivileged(str(root))
    finally:
        import shutil

        shutil.rmtree(root)
    assert sorted(sensors) == ["cpu:model", "ram:model"]
    explained = [n for n in notes if "cannot read" in n]
    assert len(explained) == 1
    assert "chmod" in explained[0] and "udev" in explained[0] and "CVE-2020-8694" in explained[0]
    assert "package-0" in explained[0] and "dram" in explained[0]


def test_sensor_error_names_the_file_when_reading_fails(tmp_path: Path) -> None:
    zone_dir = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 10)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    (zone_dir / "energy_uj").unlink()
    (zone_dir / "energy_uj").mkdir()
    with pytest.raises(SensorError, match="energy_uj"):
        rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)


def test_environment_variable_overrides_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rapl.ENV_ROOT, str(tmp_path))
    assert rapl.powercap_roots() == (str(tmp_path),)
    monkeypatch.delenv(rapl.ENV_ROOT)
    assert rapl.powercap_roots() == rapl.DEFAULT_ROOTS


def test_amd_counters_carry_a_wider_uncertainty(tmp_path: Path) -> None:
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 10)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    sensor = rapl.RaplSensor(zone, vendor="AuthenticAMD", start_t=0.0)
    assert sensor.uncertainty_by_method["counter"] > 0.05
    sensor.close()


def _track_in_thread(root: Path, seconds: float) -> tuple[threading.Thread, dict]:
    """Run a short track() on a thread so a hang fails the test instead of blocking the suite."""
    out: dict = {}

    def body() -> None:
        with wattprint.track(powercap_root=str(root), gpus=False) as run:
            time.sleep(seconds)
        out["result"] = run.result

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def _release_fifo(path: Path) -> None:
    """Give a reader blocked on ``path`` a writer, so a failed test leaves no thread stuck forever."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"1\n")
        os.close(fd)
    except OSError:
        pass


@pytest.mark.parametrize("file_name", ["energy_uj", "name", "max_energy_range_uj"])
def test_a_fifo_in_the_sysfs_tree_neither_blocks_track_nor_is_used(tmp_path: Path, file_name: str) -> None:
    zone = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 10)
    (zone / file_name).unlink()
    os.mkfifo(zone / file_name)
    thread, out = _track_in_thread(tmp_path, 0.1)
    thread.join(timeout=20)
    blocked = thread.is_alive()
    while thread.is_alive():
        _release_fifo(zone / file_name)
        thread.join(timeout=0.5)
    assert not blocked, f"track() blocked on a FIFO {file_name}"
    result = out["result"]
    assert result.components["cpu"].method == "model"
    if file_name == "energy_uj":
        assert any("not a regular file" in n and "energy_uj" in n for n in result.notes)
    if file_name == "max_energy_range_uj":
        assert any("no readable max_energy_range_uj" in n for n in result.notes)


def test_a_tiny_counter_range_is_refused_with_a_note_instead_of_polled_without_pause(tmp_path: Path) -> None:
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 0, max_range_uj=1)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    with pytest.raises(SensorError, match="max_energy_range_uj"):
        rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)
    with wattprint.track(powercap_root=str(tmp_path), gpus=False) as run:
        time.sleep(0.05)
    result = run.result
    assert result is not None
    assert result.components["cpu"].method == "model"
    assert any("max_energy_range_uj" in n and "package-0" in n for n in result.notes)


def test_the_polling_period_has_a_floor_and_says_so(tmp_path: Path) -> None:
    """A small (but usable) range at a high ceiling would ask for reads every few microseconds."""
    write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 0, max_range_uj=2_000_000)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    sensor = rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)
    assert rapl.MIN_POLL_S > 0.25 * 2.0 / 1000  # the unclamped period would be 0.5 ms
    assert sensor.next_poll_s() == rapl.MIN_POLL_S
    notes = sensor.runtime_notes()
    assert len(notes) == 1 and "package-0" in notes[0] and "wrap" in notes[0]
    sensor.close()


def test_a_counter_one_microjoule_lower_is_a_glitch_not_a_wrap(tmp_path: Path) -> None:
    zone_dir = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 5_000_000,
                          power_limit_uw=125_000_000)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    sensor = rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)
    set_energy(zone_dir, 4_999_999)
    energy, method = sensor.advance(1.0)
    assert energy == 0.0  # not 262,143 J (256 kW for a 125 W package)
    set_energy(zone_dir, 5_000_000 + 50_000_000)
    assert sensor.advance(2.0)[0] == pytest.approx(50.000001)  # counting resumes from the new base
    notes = sensor.runtime_notes()
    assert len(notes) == 1 and "package-0" in notes[0] and "reset" in notes[0]
    sensor.close()


def test_a_counter_that_restarts_from_zero_counts_what_it_counted_since(tmp_path: Path) -> None:
    zone_dir = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 100_000_000_000,
                          max_range_uj=2**63, power_limit_uw=125_000_000)
    zone = rapl.discover_zones([str(tmp_path)])[0]
    sensor = rapl.RaplSensor(zone, vendor="GenuineIntel", start_t=0.0)
    set_energy(zone_dir, 30_000_000)  # reset to 0, then 30 J in a second: not 9.2e12 J
    energy, _ = sensor.advance(1.0)
    assert energy == pytest.approx(30.0)
    assert any("reset" in n for n in sensor.runtime_notes())
    sensor.close()


def test_an_implausible_wrap_inside_a_run_adds_nothing_and_leaves_a_note(tmp_path: Path) -> None:
    zone_dir = write_zone(tmp_path / "intel-rapl", "intel-rapl:0", "package-0", 5_000_000,
                          power_limit_uw=125_000_000)
    with wattprint.track(powercap_root=str(tmp_path), gpus=False) as run:
        set_energy(zone_dir, 6_000_000)
        run.snapshot()
        set_energy(zone_dir, 5_999_999)
        run.snapshot()
        set_energy(zone_dir, 7_000_000)
    result = run.result
    assert result is not None
    assert result.components["cpu"].method == "counter"
    assert result.components["cpu"].energy_j == pytest.approx(2.0, abs=1e-3)
    assert any("reset" in n and "package-0" in n for n in result.notes)
