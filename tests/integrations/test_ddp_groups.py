"""Real torchrun launches of a tiny DDP training over gloo: one run group, the node's CPU counted once.

The powercap tree is the test's own; rank 0 of each node advances its package counter by a known energy after
every step, between barriers, so every joule lies inside every part's run: a group that counted the CPU once per
rank would show four times the tree's delta.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.sysfs import write_zone
from wattprint.store import open_store
from wattprint.store.groups import group_parts, group_totals

pytest.importorskip("torch.distributed")

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
STEP_J = 10.0
STEPS = 4


def _powercap(root: Path) -> str:
    write_zone(root, "intel-rapl:0", "package-0")
    return str(root)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _torchrun(args: list[str], store: str, powercap: str, mode: str = "plain", steps: int = STEPS,
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})}
    command = [sys.executable, "-m", "torch.distributed.run", *args, str(WORKER), store, powercap, str(STEP_J),
               str(steps), mode]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> list[dict[str, object]]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-4000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]  # each rank writes one line


def _one_group(store_url: str) -> str:
    with open_store(store_url) as store:
        groups = {run.details.group.group_id for run in store.runs(limit=None) if run.details.group}
    assert len(groups) == 1, groups
    return groups.pop()


def test_four_ranks_on_one_node_count_the_cpu_once(tmp_path: Path) -> None:
    store = str(tmp_path / "runs.sqlite")
    ranks = _finish(_torchrun(["--standalone", "--nproc_per_node=4"], store, _powercap(tmp_path / "pc")))
    assert sorted(r["rank"] for r in ranks) == [0, 1, 2, 3] and all(r["saved"] for r in ranks)
    group_id = _one_group(store)
    with open_store(store) as opened:
        totals = group_totals(opened, group_id)
        parts = group_parts(opened, group_id)
    delta_j = STEP_J * STEPS
    assert totals.components["cpu"] == pytest.approx(delta_j, rel=0.01)  # not 4x
    assert {p.run_id for p in parts} == {r["run_id"] for r in ranks}  # each rank's part present
    assert sorted(p.group.rank for p in totals.parts) == [0, 1, 2, 3]
    assert [p.group.measures_host for p in totals.parts] == [True, False, False, False]
    assert all(p.counted_j == 0 for p in totals.parts[1:])  # the others measured no CPU, no RAM, no GPU here
    assert len(totals.nodes) == 1 and totals.nodes[0].parts == 4
    assert totals.world_size == 4 and totals.launcher == "torchrun" and totals.status == "finished"
    assert totals.duration_s >= max(p.run.duration_s for p in totals.parts)
    assert not totals.notes
    follower = next(p.run for p in totals.parts if not p.group.measures_host)
    assert any("measured once, by its leader" in note for note in follower.notes)


def test_budget_stop_ends_every_rank(tmp_path: Path) -> None:
    """Only the leader's part sees energy (the CPU); its stop reaches every rank through stop_together."""
    store = str(tmp_path / "runs.sqlite")
    steps = 40
    ranks = _finish(_torchrun(["--standalone", "--nproc_per_node=4"], store, _powercap(tmp_path / "pc"),
                              mode="budget", steps=steps))
    done = {r["steps"] for r in ranks}
    assert len(done) == 1 and done.pop() < steps  # every rank stopped, at the same step
    with open_store(store) as opened:
        totals = group_totals(opened, _one_group(store))
    assert len(totals.parts) == 4 and totals.status == "finished"


@pytest.mark.usefixtures("postgres_admin_url")
def test_two_nodes_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    """Two torchrun launches with their own node rank and powercap tree (two "nodes") meet at one rendezvous and
    write one group into PostgreSQL: each node's CPU counted once, both nodes in the total."""
    port = _free_port()
    common = ["--nnodes=2", "--nproc_per_node=2", "--master_addr=127.0.0.1", f"--master_port={port}",
              "--rdzv-id=two-nodes-test"]
    trees = [_powercap(tmp_path / "node0"), _powercap(tmp_path / "node1")]
    launches = [_torchrun([*common, f"--node_rank={node}"], pg_url, trees[node]) for node in (0, 1)]
    ranks = [rank for launch in launches for rank in _finish(launch)]
    assert sorted(r["rank"] for r in ranks) == [0, 1, 2, 3]
    with open_store(pg_url) as opened:
        totals = group_totals(opened, _one_group(pg_url))
    assert [node.node for node in totals.nodes] == ["0", "1"]
    assert [node.parts for node in totals.nodes] == [2, 2]
    assert all(node.leader is not None for node in totals.nodes)
    per_node = {d.node: d.energy_j for d in totals.devices if d.component == "cpu"}
    assert per_node == pytest.approx({"0": STEP_J * STEPS, "1": STEP_J * STEPS}, rel=0.01)
    assert totals.components["cpu"] == pytest.approx(2 * STEP_J * STEPS, rel=0.01)
    assert totals.world_size == 4


def test_lightning_ddp_on_two_cpu_processes_is_one_group(tmp_path: Path) -> None:
    pytest.importorskip("lightning")
    store = str(tmp_path / "runs.sqlite")
    worker = Path(__file__).with_name("lightning_worker.py")
    steps = 3
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(worker), store, _powercap(tmp_path / "pc"), str(STEP_J), str(steps)],
                          env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = [line.split() for line in done.stdout.splitlines() if line.startswith("RANK ")]
    assert sorted(rank for _, rank, _ in ranks) == ["0", "1"]
    group_id = _one_group(store)
    with open_store(store) as opened:
        totals = group_totals(opened, group_id)
    assert totals.launcher == "lightning" and len(totals.parts) == 2
    assert {p.run.run_id for p in totals.parts} == {run_id for _, _, run_id in ranks}
    assert [p.group.measures_host for p in totals.parts] == [True, False]
    assert totals.components["cpu"] == pytest.approx(STEP_J * steps, rel=0.01)  # not 2x

