"""A run group written the way a distributed job writes one: real trackers, one per rank, each given ``group=``,
on "nodes" whose CPU counters are powercap trees the test writes and moves by a known energy."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.sysfs import set_energy, write_zone
from wattprint.api.records import GroupRecord
from wattprint.run.tracker import Tracker


def write_group(tmp_path: Path, store: str, *, group_id: str = "job-7001", project: str = "cluster",
                node_joules: tuple[float, ...] = (25.0, 40.0), ranks_per_node: int = 2,
                status: str = "finished") -> list[str]:
    """One part per rank of ``len(node_joules)`` nodes; node n's package counter moves ``node_joules[n]`` while its
    parts run. Returns the parts' run ids, rank order."""
    world = len(node_joules) * ranks_per_node
    zones = []
    for node in range(len(node_joules)):
        root = tmp_path / f"{group_id}-node{node}"
        zone = root / "intel-rapl:0"
        if not zone.exists():
            write_zone(root, "intel-rapl:0", "package-0")
        zones.append(zone)
    parts = []
    for rank in range(world):
        node, local = divmod(rank, ranks_per_node)
        parts.append(Tracker(project, "train", store=store, powercap_root=str(zones[node].parent), gpus=False,
                             rapl_domains=("package",), intensity_zone="FR",
                             group=GroupRecord(group_id=group_id, launcher="torchrun", rank=rank, local_rank=local,
                                               world_size=world, local_world_size=ranks_per_node, node_rank=node,
                                               node_count=len(node_joules))))
    before = [int((zone / "energy_uj").read_text()) for zone in zones]
    for part in parts:
        part.start()
    for zone, start, joules in zip(zones, before, node_joules, strict=True):
        set_energy(zone, start + int(joules * 1e6))
    for part in parts:
        part.stop(status)
        assert part.wait_saved(30)
    return [part.run_id for part in parts if part.run_id]
