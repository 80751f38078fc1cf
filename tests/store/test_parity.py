"""Every way into the store writes the same tables, and never rolls a run back.

The same saves (a first state; every column changed; an older state replayed late; the newest again; a newer state
with more buckets and tasks; then ``save_many`` across batches, with an older state and a run given twice) go
through ``SqliteWriter``, ``RunStore`` on SQLite and ``RunStore`` on PostgreSQL. Each store must then hold what the
records say, and every table's rows must be the same in all of them (a project's creation time aside).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("pg")

from tests.fakes.pg import full_run, make_components, make_intervals, make_run, make_tasks, run_id  # noqa: E402
from wattprint.store import RunStore, SqliteWriter, open_store, open_writer  # noqa: E402
from wattprint.store.records import ComponentRecord, IntervalRecord, TaskRecord  # noqa: E402
from wattprint.store.rows import interval_row, run_row, task_row  # noqa: E402

TABLES = ("runs", "run_components", "intervals", "tasks")


def by_key(intervals: list[IntervalRecord]) -> list[IntervalRecord]:
    return sorted(intervals, key=lambda i: (i.bucket, i.device))


def sequence(rid: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """Saves of one run (first state, every column changed, an older state replayed late, the newest again, a
    newer state with more buckets and tasks) and what the store must hold afterwards."""
    first = make_run(rid, status="running", updated_at=1_760_000_100.0, ended_at=None)
    newest = replace(full_run(rid), updated_at=1_760_000_200.0, hostname="elsewhere")
    for name, value in run_row(first).items():  # every column changes, so no column can be left out of an upsert
        assert name == "run_id" or value != run_row(newest)[name], name
    stale = replace(first, updated_at=1_760_000_150.0, status="killed", energy_j=1.0)

    intervals = make_intervals(2)
    changed = [
        replace(i, start_offset_s=i.start_offset_s + 1, end_offset_s=i.end_offset_s + 2, component="other",
                energy_j=i.energy_j * 3, avg_power_w=i.avg_power_w + 1, method="sampled", uncertainty_rel=0.25,
                emissions_g=1.5, intensity_g_per_kwh=321.0)
        for i in intervals
    ]
    for old, new in zip(intervals, changed, strict=True):
        for name, value in interval_row(rid, old).items():
            assert name in ("run_id", "bucket", "device") or value != interval_row(rid, new)[name], name
    tasks = make_tasks(2)
    changed_tasks = [
        replace(t, name=t.name + "-b", started_at=t.started_at + 1, duration_s=t.duration_s + 1,
                energy_j=t.energy_j + 1, uncertainty_rel=0.3, method="model",
                components=(ComponentRecord("ram", "all", 1.0, 2.0, "model", 0.5),))
        for t in tasks
    ]
    for old, new in zip(tasks, changed_tasks, strict=True):
        for name, value in task_row(rid, old).items():
            assert name in ("run_id", "seq") or value != task_row(rid, new)[name], name
    components = make_components()
    new_components = [replace(c, energy_j=c.energy_j + 1, avg_power_w=c.avg_power_w + 1, method="model",
                              uncertainty_rel=0.4) for c in components[:2]]
    late_interval = replace(intervals[0], bucket=9)  # what the store lacks, an older state fills in
    late_task = replace(tasks[0], seq=9)
    later = replace(newest, updated_at=1_760_000_300.0, status="finished", energy_j=2.5, emissions_g=7.25)
    more_intervals = [replace(i, bucket=i.bucket + 10, emissions_g=0.5) for i in make_intervals(2)]
    more_tasks = [replace(t, seq=t.seq + 10) for t in make_tasks(2)]
    saves = [
        (first, components, intervals, tasks),
        (newest, new_components, changed, changed_tasks),
        (stale, components, [*intervals, late_interval], [*tasks, late_task]),
        (newest, (), (), ()),  # the same state again changes nothing
        (later, (), more_intervals, more_tasks),  # newer, with no totals given: the stored totals stay
    ]
    expected = {
        "run": later,
        "components": new_components,
        "intervals": by_key([*changed, late_interval, *more_intervals]),
        "tasks": [*changed_tasks, late_task, *more_tasks],
    }
    return saves, expected


def many(rid: str, expected: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[str], dict[str, dict[str, Any]]]:
    """``save_many`` items (an older state of ``rid``, new runs, one of them twice) for batches of two, the ids it
    must report as already stored, and what the store must hold for each run afterwards."""
    other, bare = run_id(14, 2), run_id(14, 3)
    older = replace(expected["run"], updated_at=1_760_000_250.0, status="running", energy_j=2.0)
    filled = IntervalRecord(bucket=20, start_offset_s=200.0, end_offset_s=210.0, component="gpu", device="gpu:0",
                            energy_j=5.0, avg_power_w=0.5, method="counter", uncertainty_rel=0.05)
    not_replaced = replace(expected["intervals"][0], energy_j=-1.0)  # a bucket the store has: an older state keeps out
    filled_task = TaskRecord(seq=20, name="late-epoch", started_at=1_760_000_240.0, duration_s=1.0, energy_j=2.0,
                             uncertainty_rel=0.1, method="counter")
    first_other = make_run(other, project="other-project", updated_at=1_760_000_400.0, status="running")
    second_other = replace(first_other, updated_at=1_760_000_500.0, status="finished", energy_j=99.5)
    other_components = [replace(c, energy_j=c.energy_j * 2) for c in make_components()]
    items = [
        (first_other, make_components(), make_intervals(1), make_tasks(1)),
        (older, make_components(), [filled, not_replaced], [filled_task]),
        (second_other, other_components, make_intervals(2), ()),  # the same run again: it waits for the next batch
        (make_run(bare, project=None, name=None, updated_at=1_760_000_600.0), (), (), ()),
    ]
    holds = {
        rid: {**expected, "intervals": by_key([*expected["intervals"], filled]),
              "tasks": [*expected["tasks"], filled_task]},
        other: {"run": second_other, "components": other_components, "intervals": by_key(make_intervals(2)),
                "tasks": make_tasks(1)},
        bare: {"run": items[-1][0], "components": [], "intervals": [], "tasks": []},
    }
    return items, [rid, other], holds


def check_holds(store: RunStore, rid: str, expected: dict[str, Any]) -> None:
    assert store.run(rid) == expected["run"]
    assert store.components(rid) == expected["components"]
    assert store.intervals(rid) == expected["intervals"]
    assert store.tasks(rid) == expected["tasks"]


def scenario(writer: RunStore | SqliteWriter, reader: RunStore) -> None:
    """The saves, then ``save_many``, through ``writer``; what ``reader`` reads must be what they say."""
    rid = run_id(14, 1)
    saves, expected = sequence(rid)
    for save in saves:
        writer.save(*save)
    check_holds(reader, rid, expected)
    items, already, holds = many(rid, expected)
    assert writer.save_many(items, batch_size=2) == already
    for run, held in holds.items():
        check_holds(reader, run, held)
    assert reader.projects() == ["mnist", "other-project", "projekt-ü/α"]


def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row of every table, a run's project by its name (ids and creation times aside)."""
    from sqlalchemy import select

    from wattprint.store import schema

    runs, projects = schema.runs, schema.projects
    queries = {
        "runs": select(*[c for c in runs.c if c.name != "project_id"], projects.c.name).select_from(
            runs.outerjoin(projects, runs.c.project_id == projects.c.project_id)),
        "projects": select(projects.c.name),
        **{name: select(schema.metadata.tables[name]) for name in TABLES[1:]},
    }
    with open_store(url) as store, store._engine.connect() as conn:
        return {name: sorted((tuple(row) for row in conn.execute(query)), key=repr) for name, query in queries.items()}


def saved(url: str, way: str) -> dict[str, list[tuple[Any, ...]]]:
    """Run the scenario into a new store at ``url`` through ``way`` (``writer`` or ``runstore``); its tables."""
    with open_store(url) as store:
        if way == "runstore":
            scenario(store, store)
        else:
            with open_writer(url) as writer:
                assert isinstance(writer, SqliteWriter)
                scenario(writer, store)
    found = tables(url)
    assert all(found[name] for name in TABLES)
    return found


def test_both_sqlite_ways_write_every_column_alike_and_never_go_back(tmp_path: Path) -> None:
    by_runstore = saved(f"sqlite:///{tmp_path / 'runstore.sqlite'}", "runstore")
    by_writer = saved(f"sqlite:///{tmp_path / 'writer.sqlite'}", "writer")
    assert by_writer == by_runstore


def test_postgres_writes_every_column_as_sqlite_does_and_never_goes_back(pg_url: str, tmp_path: Path) -> None:
    by_postgres = saved(pg_url, "runstore")
    by_writer = saved(f"sqlite:///{tmp_path / 'writer.sqlite'}", "writer")
    assert by_postgres == by_writer
