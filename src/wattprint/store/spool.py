"""The local spool: runs that could not reach the store wait here as JSON files until it works again.

One file per run (``<run_id>.json``), rewritten atomically with the latest state, merged the way the store
merges saves: the run and its component totals replaced, intervals by (bucket, device), tasks by seq. Replaying
saves each file into the store (idempotent, and monotonic: a file older than the stored run changes nothing) and
deletes it. Each store has its own spool directory (:func:`store_spool_dir`); the recorder fills it, and the
next process to save a run, or a reading command (:func:`replay_pending`), empties it. Floats survive the round
trip exactly (JSON keeps the shortest repr that reads back to the same double). Stdlib only, apart from
platformdirs for the default directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from wattprint.core.codec import to_dict
from wattprint.store.records import (
    INTERVAL_FIELDS,
    ComponentRecord,
    IntervalRecord,
    RunRecord,
    TaskRecord,
    component_from_dict,
    component_to_dict,
    interval_from_row,
    interval_to_row,
    run_from_dict,
    run_to_dict,
    task_from_dict,
    task_to_dict,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    from wattprint.api.records import RequestIntervalRecord
    from wattprint.store.records import RunRecord as _Run

    class SupportsSave(Protocol):
        def save(
            self,
            run: _Run,
            components: Sequence[ComponentRecord] = ...,
            intervals: Sequence[IntervalRecord] = ...,
            tasks: Sequence[TaskRecord] = ...,
            *,
            lock_timeout_s: float | None = ...,
            requests: Sequence[RequestIntervalRecord] = ...,
        ) -> None: ...

FORMAT = "wattprint-spool"
VERSION = 1
SUFFIX = ".json"


def default_spool_dir() -> Path:
    """``<per-user data dir>/spool`` (``~/.local/share/wattprint/spool`` on Linux)."""
    from wattprint.store.urls import data_dir

    return Path(data_dir()) / "spool"


def spool_path(directory: str | os.PathLike[str], run_id: str) -> Path:
    return Path(directory) / f"{run_id}{SUFFIX}"


def store_spool_dir(url: str) -> str:
    """The spool of the store at ``url`` (any form ``resolve_store_url`` takes): one directory per store under
    :func:`default_spool_dir`."""
    import hashlib

    from wattprint.store.urls import resolve_store_url

    key = resolve_store_url(url) or url
    return os.path.join(str(default_spool_dir()), hashlib.sha256(key.encode()).hexdigest()[:16])


def retire(directory: str | os.PathLike[str], run_id: str, updated_at: float) -> bool:
    """Delete the spool file of ``run_id`` if the store now holds a state at least as new (``updated_at``): a
    stale file left behind would otherwise be replayed later. True if a file was deleted."""
    path = spool_path(directory, run_id)
    try:
        spooled, _, _, _ = load_spool_file(path)
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return False  # replay sets an unreadable file aside and says so
    if spooled.updated_at > updated_at:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


class Spooled:
    """A run waiting in a spool directory: what ``wattprint doctor`` lists."""

    __slots__ = ("path", "run_id", "name", "project", "status", "updated_at", "tasks")

    def __init__(self, path: Path, run: RunRecord, tasks: int) -> None:
        self.path = path
        self.run_id = run.run_id
        self.name = run.name
        self.project = run.project
        self.status = run.status
        self.updated_at = run.updated_at
        self.tasks = tasks


def pending(url: str) -> list[Spooled]:
    """The runs waiting in the spool of the store at ``url`` (resolved), oldest first; unreadable files skipped."""
    out = []
    for path in spooled_files(store_spool_dir(url)):
        try:
            run, _, _, tasks = load_spool_file(path)
        except (OSError, ValueError):
            continue
        out.append(Spooled(path, run, len(tasks)))
    return out


def replay_pending(url: str, store: SupportsSave, *, lock_timeout_s: float = 2.0) -> int:
    """Save the runs waiting in the spool of the store at ``url`` into ``store``, quietly, for commands that read
    the store: returns how many were saved; never raises (a store that is locked or failing leaves the files for
    the next time, and the reason is logged at debug level)."""
    from wattprint import _log

    directory = store_spool_dir(url)
    if not os.path.isdir(directory):
        return 0
    try:
        return replay_spool(directory, store, lock_timeout_s=lock_timeout_s)
    except Exception as error:  # noqa: BLE001 - reading must work whatever the spool holds
        _log.debug("wattprint: the spool %s could not be replayed now: %s", directory, error)
        return 0


def spool_save(
    directory: str | os.PathLike[str],
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    intervals: Sequence[IntervalRecord] = (),
    tasks: Sequence[TaskRecord] = (),
    requests: Sequence[RequestIntervalRecord] = (),
) -> Path:
    """Write (or update) the spool file of ``run``; returns its path. Writing the same records again is harmless.
    ``requests``: the run's request sums per time bucket and endpoint, merged by (bucket, endpoint).

    The file is replaced atomically, so a crash mid-write leaves the previous state, never a torn file; it is
    readable by its owner only, like a new spool directory.
    """
    if not isinstance(run.run_id, str) or not run.run_id or os.sep in run.run_id or run.run_id.startswith("."):
        raise ValueError(f"run_id {run.run_id!r} cannot name a spool file")
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = spool_path(folder, run.run_id)
    old_components: list[ComponentRecord] = []
    merged_intervals: dict[tuple[int, str], IntervalRecord] = {}
    merged_tasks: dict[int, TaskRecord] = {}
    merged_requests: dict[tuple[int, str], RequestIntervalRecord] = {}
    if path.exists():
        try:
            _, old_components, old_intervals, old_tasks, old_requests = _decode_all(path.read_bytes(), path)
        except (OSError, ValueError):
            old_intervals, old_tasks, old_requests = [], [], []  # unreadable: the new state replaces it
        merged_intervals = {(i.bucket, i.device): i for i in old_intervals}
        merged_tasks = {t.seq: t for t in old_tasks}
        merged_requests = {(r.bucket, r.endpoint): r for r in old_requests}
    for row in requests:
        merged_requests[(row.bucket, row.endpoint)] = row
    for interval in intervals:
        merged_intervals[(interval.bucket, interval.device)] = interval
    for task in tasks:
        merged_tasks[task.seq] = task
    document = {
        "format": FORMAT,
        "version": VERSION,
        "run": run_to_dict(run),
        "components": [component_to_dict(c) for c in (components or old_components)],
        "interval_fields": list(INTERVAL_FIELDS),
        "intervals": [interval_to_row(merged_intervals[key]) for key in sorted(merged_intervals)],
        "tasks": [task_to_dict(merged_tasks[seq]) for seq in sorted(merged_tasks)],
        "requests": [to_dict(merged_requests[key]) for key in sorted(merged_requests)],
    }
    data = json.dumps(document, separators=(",", ":")).encode()
    fd, temporary = tempfile.mkstemp(prefix=f".{run.run_id}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def load_spool_file(
    path: str | os.PathLike[str],
) -> tuple[RunRecord, list[ComponentRecord], list[IntervalRecord], list[TaskRecord]]:
    """The records of one spool file; ValueError if it is not one."""
    raw = Path(path).read_bytes()
    return _decode(raw, path)


def _decode(
    raw: bytes, path: object
) -> tuple[RunRecord, list[ComponentRecord], list[IntervalRecord], list[TaskRecord]]:
    return _decode_all(raw, path)[:4]


def _decode_all(
    raw: bytes, path: object
) -> tuple[RunRecord, list[ComponentRecord], list[IntervalRecord], list[TaskRecord], list[RequestIntervalRecord]]:
    """A spool file's records, its request sums last (none in a file written before they were spooled)."""
    from wattprint.api.records import RequestIntervalRecord
    from wattprint.core.codec import from_dict

    try:
        document: Any = json.loads(raw)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError("not a wattprint spool file")
        if document.get("version") != VERSION:
            raise ValueError(f"spool format version {document.get('version')!r} is not supported")
        columns = tuple(document["interval_fields"])
        run = run_from_dict(document["run"])
        components = [component_from_dict(c) for c in document["components"]]
        intervals = [interval_from_row(row, columns) for row in document["intervals"]]
        tasks = [task_from_dict(t) for t in document["tasks"]]
        requests = [from_dict(RequestIntervalRecord, r) for r in document.get("requests", ())]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is not a readable wattprint spool file: {error}") from error
    return run, components, intervals, tasks, requests


def spooled_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The spool files waiting in ``directory``, oldest run first (run ids sort by time)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith("."))


def replay_spool(directory: str | os.PathLike[str], store: SupportsSave, *, lock_timeout_s: float | None = None) -> int:
    """Save every spooled run into ``store`` (a RunStore, or anything with its ``save``) and delete the files
    saved; returns how many were saved. ``lock_timeout_s`` bounds each save's wait for another process's lock.

    A file that is not a spool file is renamed to ``*.json.bad`` (and logged) so it is not retried forever. A
    store error stops the replay and is raised; the files not yet saved stay for the next time.
    """
    count = 0
    for path in spooled_files(directory):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # another process replayed it
            continue
        try:
            run, components, intervals, tasks, requests = _decode_all(raw, path)
        except ValueError as error:
            _set_aside(path, error)
            continue
        store.save(run, components, intervals, tasks, lock_timeout_s=lock_timeout_s, requests=requests)
        count += 1
        try:
            # a writer may have rewritten the file meanwhile: then keep it (its newer state is replayed next time)
            if path.read_bytes() == raw:
                path.unlink()
        except FileNotFoundError:
            pass
    return count


def _set_aside(path: Path, error: Exception) -> None:
    from wattprint import _log

    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError:
        return
    _log.warn_once(f"spool-bad:{path}", f"wattprint: {error}; moved to {bad}")
