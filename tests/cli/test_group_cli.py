"""Run groups through the command line: ``wattprint show GROUP`` (text, JSON, SLURM's sacct beside), ``runs``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.sysfs import set_energy, write_zone
from wattprint.api.records import GroupRecord
from wattprint.report.slurm import parse_sacct
from wattprint.run.tracker import Tracker

SACCT = """7001|912345|
7001.batch|1200|
7001.0|900000|
"""


def _group(tmp_path: Path, store: str, job_id: str | None = None, attempt: int = 0,
           status: str = "finished") -> tuple[str, list[str]]:
    """Two parts of one group on one node, in this process: the leader and a rank that measures no CPU; the
    counter moves 25 J while they run."""
    zone = tmp_path / "pc" / "intel-rapl:0"
    if not zone.exists():
        write_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    before = int((zone / "energy_uj").read_text())
    parts = [Tracker("cluster", "train", store=store, powercap_root=str(tmp_path / "pc"), gpus=False,
                     rapl_domains=("package",), intensity_zone="FR",
                     group=GroupRecord(group_id="job-7001", launcher="slurm", rank=rank, local_rank=rank,
                                       world_size=2, local_world_size=2, node_rank=0, node_count=1, job_id=job_id,
                                       attempt=attempt))
             for rank in (0, 1)]
    for part in parts:
        part.start()
    set_energy(zone, before + 25_000_000)
    for part in parts:
        part.stop(status)
        assert part.wait_saved(30)
    return "job-7001", [part.run_id for part in parts if part.run_id]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wattprint", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_show_group_and_runs(tmp_path: Path, env: dict[str, str]) -> None:
    store = env["WATTPRINT_STORE"]
    group_id, run_ids = _group(tmp_path, store)
    shown = _cli(["show", group_id], env)
    assert shown.returncode == 0, shown.stderr
    assert f"run group {group_id} (slurm; 2 parts on 1 node)" in shown.stdout
    assert "(leader)" in shown.stdout and "SLURM job" not in shown.stdout
    data = json.loads(_cli(["show", group_id, "--json"], env).stdout)
    assert data["components"]["cpu"] == pytest.approx(25.0, rel=0.01)  # once, not twice
    assert [p["rank"] for p in data["parts"]] == [0, 1] and data["parts"][1]["energy_j"] == 0
    assert data["nodes"][0]["leader_run_id"] == run_ids[0]
    part = _cli(["show", run_ids[1]], env)
    assert f"part of run group {group_id} (rank 1 of 2, measured its own devices)" in part.stdout
    listing = _cli(["runs"], env).stdout
    assert "×2 parts" in listing and f"group {group_id}" in listing
    assert run_ids[0][:12] not in listing  # the parts are folded into the group's line
    listed = json.loads(_cli(["runs", "--json"], env).stdout)
    assert sorted(r["group"]["rank"] for r in listed) == [0, 1]
    missing = _cli(["show", "no-such-group"], env)
    assert missing.returncode != 0 and "no-such-group" in missing.stderr


def test_sacct_energy_shown_beside_ours(tmp_path: Path, env: dict[str, str]) -> None:
    group_id, _ = _group(tmp_path, env["WATTPRINT_STORE"], job_id="7001")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sacct"
    fake.write_text(f"#!/bin/sh\n[ \"$2\" = 7001 ] || exit 1\ncat <<'OUT'\n{SACCT}OUT\n")
    fake.chmod(0o755)
    with_sacct = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    shown = _cli(["show", group_id], with_sacct)
    assert "SLURM job 7001" in shown.stdout and "sacct ConsumedEnergyRaw" in shown.stdout
    data = json.loads(_cli(["show", group_id, "--json"], with_sacct).stdout)
    assert data["slurm"] == {"job_id": "7001", "consumed_energy_j": 912345.0, "steps": {"batch": 1200.0, "0": 900000.0},
                             "source": "sacct ConsumedEnergyRaw"}
    assert "slurm" not in json.loads(_cli(["show", group_id, "--json"], env | {"PATH": str(tmp_path)}).stdout)


def test_parse_sacct_without_energy_plugin() -> None:
    assert parse_sacct("7001", "7001||\n7001.batch||\n") is None
    assert parse_sacct("7001", "7001.0|5|\n").steps == {"0": 5.0}


def test_restarted_attempts_each_count_once(tmp_path: Path, env: dict[str, str]) -> None:
    """An elastic restart: the failed attempt's energy counts (the work was done), each attempt's leader measured
    its CPU once, and the group's status is its last attempt's."""
    store = env["WATTPRINT_STORE"]
    _group(tmp_path, store, attempt=0, status="failed")
    group_id, _ = _group(tmp_path, store, attempt=1)
    data = json.loads(_cli(["show", group_id, "--json"], env).stdout)
    assert data["attempts"] == 2 and data["status"] == "finished"
    assert data["components"]["cpu"] == pytest.approx(50.0, rel=0.01)
    assert [(p["attempt"], p["measures_host"]) for p in data["parts"]] == [(0, True), (0, False), (1, True),
                                                                            (1, False)]
    assert "2 attempts" in _cli(["show", group_id], env).stdout
