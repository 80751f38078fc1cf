"""Group commit: run documents sent at the same time are saved together, in one transaction per batch.

A send waits for the commit of its batch, so an answer still means "stored" (a restart loses nothing that was
acknowledged). Nothing waits to fill a batch: a send arriving while the store is idle is written at once, alone;
sends arriving while a batch is being written form the next one. Under load that cuts the statements, round
trips and commits per send several-fold (figures in BENCHMARKS.md). A batch holds each run once (a second send of
the same run waits for the next batch) and at most ``MAX_INTERVALS`` intervals. A batch that fails is written
again one send at a time, so a bad send fails alone.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from wattprint.store import queries
from wattprint.store.runstore import RunStore

MAX_SENDS = 64
"""Sends per batch, at most."""
MAX_INTERVALS = 20_000
"""Intervals per batch, at most (a batch is one statement per table: its size bounds the server's memory)."""


@dataclass
class _Waiting:
    save: queries.RunSave
    answer: asyncio.Future[queries.SaveOutcome]


class GroupCommit:
    """Saves runs for the request handlers, batching those that arrive together; ``batches_at_once`` batches are
    written at the same time (SQLite writes one at a time anyway; PostgreSQL works on several, in several
    backends, while the server reads the next sends: 4 did best of 2, 3 and 4 in bench/bench_server.py)."""

    def __init__(self, store: RunStore, *, batches_at_once: int | None = None) -> None:
        self._store = store
        self._limit = batches_at_once or (4 if store.dialect == "postgresql" else 1)
        self._waiting: collections.deque[_Waiting] = collections.deque()
        self._writing = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def save(self, save: queries.RunSave) -> queries.SaveOutcome:
        """Save one run with those sent at the same time; ProjectMismatch or StoreError as ``save_document``."""
        answer: asyncio.Future[queries.SaveOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(save, answer))
        self._start()
        return await answer

    def _start(self) -> None:
        while self._waiting and self._writing < self._limit:
            batch = self._take()
            self._writing += 1
            task = asyncio.get_running_loop().create_task(self._write(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[_Waiting]:
        """The next batch, oldest sends first; a run already in it waits for a later one."""
        batch: list[_Waiting] = []
        runs: set[str] = set()
        intervals = 0
        later: list[_Waiting] = []
        while self._waiting and len(batch) < MAX_SENDS:
            waiting = self._waiting.popleft()
            size = len(waiting.save.intervals)
            if waiting.save.run.run_id in runs:
                later.append(waiting)
                continue
            if batch and intervals + size > MAX_INTERVALS:
                later.append(waiting)
                break
            batch.append(waiting)
            runs.add(waiting.save.run.run_id)
            intervals += size
        self._waiting.extendleft(reversed(later))
        return batch

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            try:
                outcomes = await run_in_threadpool(queries.save_runs, self._store, [w.save for w in batch])
            except Exception as error:  # noqa: BLE001 - a batch that fails is written again one send at a time
                if len(batch) == 1:
                    _answer(batch[0], error)
                    return
                for waiting in batch:
                    try:
                        (alone,) = await run_in_threadpool(queries.save_runs, self._store, [waiting.save])
                    except Exception as failure:  # noqa: BLE001 - this send's own failure, answered to it
                        _answer(waiting, failure)
                    else:
                        _answer(waiting, alone)
                return
            for waiting, outcome in zip(batch, outcomes, strict=True):
                _answer(waiting, outcome)
        finally:
            self._writing -= 1
            self._start()


def _answer(waiting: _Waiting, outcome: queries.SaveOutcome | BaseException) -> None:
    if waiting.answer.done():  # the request was cancelled (its client went away); the run is saved all the same
        return
    if isinstance(outcome, BaseException):
        waiting.answer.set_exception(outcome)
    else:
        waiting.answer.set_result(outcome)
