"""Run groups in a store (issue 19): how fast a group's parts are found and summed among many runs.

    python bench/bench_groups.py [--runs 50000] [--parts 256]

A SQLite store gets ``--runs`` plain runs and one group of ``--parts`` parts (each with a CPU, a RAM and a GPU
component); the bench times ``group_parts`` (through migration 0004's index on ``extra``'s group id), the same
lookup as a full scan (``LIKE`` on ``extra``, what a store without the index would do), and ``group_totals``.
It also times a part's snapshot filter (``GroupPart.scope``), which every reading of a non-leader part pays.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.fakes.pg import make_run, run_id  # noqa: E402
from wattprint.api.records import ComponentRecord, GroupRecord, RunExtra  # noqa: E402
from wattprint.store import open_store  # noqa: E402
from wattprint.store.groups import group_parts, group_totals  # noqa: E402


def _timed(call, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--parts", type=int, default=256)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wattprint-bench-groups-"))
    store = open_store(str(folder / "runs.sqlite"))
    batch = []
    for index in range(args.runs):
        batch.append((make_run(run_id(1, index)), [], [], []))
        if len(batch) == 2000:
            store.save_many(batch)
            batch = []
    for rank in range(args.parts):
        group = GroupRecord(group_id="bench-group", launcher="torchrun", rank=rank, local_rank=rank % 8,
                            world_size=args.parts, local_world_size=8, node_rank=rank // 8,
                            node_count=args.parts // 8, measures_host=rank % 8 == 0)
        run = dataclasses.replace(make_run(run_id(2, rank)), extra=RunExtra(group=group))
        components = [ComponentRecord("gpu", f"gpu:{rank % 8}", 1000.0, 300.0, "counter", 0.05)]
        if rank % 8 == 0:
            components += [ComponentRecord("cpu", "package-0", 500.0, 150.0, "counter", 0.05),
                           ComponentRecord("ram", "ram", 50.0, 15.0, "model", 0.5)]
        batch.append((run, components, [], []))
    store.save_many(batch)
    parts = _timed(lambda: group_parts(store, "bench-group"))
    with store._read() as conn:  # noqa: SLF001 - the run ids alone, through the index and by a scan
        indexed = _timed(lambda: conn.exec_driver_sql(
            "SELECT run_id FROM runs WHERE json_extract(extra, '$.group.group_id') = 'bench-group'").fetchall())
        scan = _timed(lambda: conn.exec_driver_sql(
            "SELECT run_id FROM runs WHERE extra LIKE '%\"group_id\":\"bench-group\"%'").fetchall())
    totals = _timed(lambda: group_totals(store, "bench-group"), repeat=3)
    found = group_totals(store, "bench-group")
    store.close()
    print(f"{args.runs:,} runs and a group of {args.parts} parts on {args.parts // 8} nodes (SQLite)")
    print(f"  the parts' run ids through the index: {indexed:8.2f} ms")
    print(f"  the same by scanning extra:           {scan:8.2f} ms")
    print(f"  group_parts (whole run records):      {parts:8.2f} ms")
    print(f"  group_totals (parts, components, sums): {totals:8.2f} ms "
          f"({found.energy_j / 1000:.0f} kJ, {len(found.nodes)} nodes)")
    _scope_cost()


def _scope_cost() -> None:
    """The cost of a non-leader part's snapshot filter, per reading."""
    from wattprint.measure.meter import Snapshot
    from wattprint.run.group import GroupPart
    from wattprint.sensors.base import SensorMeta

    meta = {f"k{i}": SensorMeta(component, device, {"counter": 0.05})
            for i, (component, device) in enumerate([("cpu", "package-0"), ("cpu", "package-1"), ("ram", "dram-0"),
                                                     *[("gpu", f"gpu:{n}") for n in range(8)]])}
    slots = [(key, "counter") for key in meta]
    snap = Snapshot(0.0, 0.0, tuple(float(i) for i in range(len(slots))), slots, meta)
    part = GroupPart(GroupRecord(group_id="g", launcher="torchrun", local_rank=3, local_world_size=8), "machine", {})
    count = 20_000
    start = time.perf_counter()
    for _ in range(count):
        part.scope(snap)
    each_us = (time.perf_counter() - start) / count * 1e6
    print(f"  a non-leader part's snapshot filter (11 sensors, keeps 1): {each_us:.1f} µs a reading")


if __name__ == "__main__":
    main()
