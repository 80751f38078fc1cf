"""Finding and reading a process's cgroup, v2 and v1, from trees written by the tests."""

from __future__ import annotations

from pathlib import Path

from wattprint.hardware.cgroup import CgroupReader, find_cgroup


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "0::/system.slice/job.scope\n")
    write(root / "cgroup.controllers", "cpu memory io\n")
    group = root / "system.slice" / "job.scope"
    write(group / "cgroup.procs", "1\n")
    write(group / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    write(group / "memory.current", "1048576\n")
    write(group / "memory.max", "4294967296\n")
    paths = find_cgroup("self", str(root), str(proc))
    assert paths is not None and paths.version == 2 and paths.cpu_dir == str(group)
    reader = CgroupReader(paths)
    assert reader.cpu_usage_s() == 2.5
    assert reader.memory_bytes() == 1048576
    assert reader.memory_limit_bytes() == 4294967296
    write(group / "memory.max", "max\n")
    assert reader.memory_limit_bytes() is None


def test_cgroup_v2_in_a_namespace_uses_the_mount_point(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "0::/kubepods/pod1/abc\n")  # host path, not visible in the container
    write(root / "cgroup.controllers", "cpu memory\n")
    write(root / "cgroup.procs", "1\n")
    write(root / "cpu.stat", "usage_usec 10\n")
    paths = find_cgroup("self", str(root), str(proc))
    assert paths is not None and paths.cpu_dir == str(root)


def test_cgroup_v1(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "42" / "cgroup", "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    write(root / "cpu,cpuacct" / "docker" / "abc" / "cpuacct.usage", "1500000000\n")
    write(root / "memory" / "docker" / "abc" / "memory.usage_in_bytes", "2048\n")
    write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "9223372036854771712\n")
    paths = find_cgroup(42, str(root), str(proc))
    assert paths is not None and paths.version == 1
    reader = CgroupReader(paths)
    assert reader.cpu_usage_s() == 1.5
    assert reader.memory_bytes() == 2048
    assert reader.memory_limit_bytes() is None  # v1's "unlimited" is a huge number


def test_no_cgroup(tmp_path: Path) -> None:
    assert find_cgroup("self", str(tmp_path / "none"), str(tmp_path / "proc")) is None
