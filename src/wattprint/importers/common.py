"""What every importer shares: the error that names the file, line and field; stable run ids; saving all or none."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wattprint.api.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord
from wattprint.core.errors import WattprintError

IMPORTED = "imported"
"""The ``method`` of every imported component: the figure comes from another tool's records, as it says."""

NAMESPACE = uuid.UUID("5f1d0c7e-6a64-4c8e-9a57-7761747470e1")
"""The namespace of imported run ids: uuid5(NAMESPACE, "<tool>:<the tool's own run id>")."""

UNKNOWN_HOST = "unknown (imported)"


class ImportFormatError(WattprintError, ValueError):
    """A file to import is not what its tool writes; the message names the file, the line or field, and what is
    wrong. Nothing of the file is stored."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None, field_name: str | None = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if field_name is not None:
            where += f", field {field_name!r}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.field = field_name


def stable_run_id(tool: str, own_id: str) -> str:
    """A wattprint run id (32 hex digits) derived from the tool's own run id, so a re-import updates, never
    duplicates."""
    return uuid.uuid5(NAMESPACE, f"{tool}:{own_id}").hex


MAXIMUM = {
    "s": 3.2e8,  # ten years
    "kWh": 1e8,  # 100 GWh: a hundred times the largest published training run
    "kg": 1e8,
    "g": 1e11,
    "W": 1e7,  # 10 MW
    "L": 1e10,
    "g/kWh": 5000.0,  # well above the dirtiest grid (about 1,100)
    "count": 1e6,
    "GB": 1e7,
    "PUE": 10.0,
    "L/kWh": 100.0,
}
"""The largest plausible value of an imported figure, by unit: beyond it a file is corrupt (or a figure is in the
wrong unit), and storing it would make every total it joins meaningless."""


def number(path: str | Path, text: object, name: str, line: int | None, *, minimum: float = 0.0,
           optional: bool = False, unit: str = "") -> float | None:
    """``text`` as a finite float of at least ``minimum`` and at most ``MAXIMUM[unit]``; an ImportFormatError
    naming the file, line and field otherwise. An empty optional field is None."""
    if text is None or (isinstance(text, str) and not text.strip()):
        if optional:
            return None
        raise ImportFormatError(path, "is empty; a number is expected", line=line, field_name=name)
    shown = str(text).strip()[:40]
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ImportFormatError(path, f"{shown!r} is not a number", line=line, field_name=name) from None
    if not math.isfinite(value):
        raise ImportFormatError(path, f"{shown!r} is not a finite number", line=line, field_name=name)
    if value < minimum:
        raise ImportFormatError(path, f"{value!r} is below {minimum:g}", line=line, field_name=name)
    maximum = MAXIMUM.get(unit)
    if maximum is not None and value > maximum:
        raise ImportFormatError(
            path, f"{value:g} {unit} is above the largest plausible value ({maximum:g} {unit}); the file is "
                  "corrupt or the figure is in another unit: fix or remove that row", line=line, field_name=name,
        )
    return value


@dataclass(frozen=True)
class ImportedRun:
    """The records of one imported run, ready for ``RunStore.save``."""

    run: RunRecord
    components: tuple[ComponentRecord, ...] = ()
    intervals: tuple[IntervalRecord, ...] = ()
    tasks: tuple[TaskRecord, ...] = ()


class ImportedRuns(Sequence[ImportedRun]):
    """The runs of a file that was checked whole, built anew from the file each time they are iterated, so that
    a file of 100,000 runs is never held in memory at once."""

    def __init__(self, build: Callable[[], Iterator[ImportedRun]], count: int) -> None:
        self._build = build
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ImportedRun]:
        return self._build()

    def __getitem__(self, index):
        return list(self)[index]

    def __repr__(self) -> str:
        return f"<{self._count} imported runs>"


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the runs it read (all of them saved), and which of them were already in the store."""

    tool: str
    path: str
    runs: Sequence[ImportedRun]
    already_stored: tuple[str, ...] = field(default=())

    @property
    def run_ids(self) -> list[str]:
        return [r.run.run_id for r in self.runs]

    def to_dict(self) -> dict[str, object]:
        return {
            "tool": self.tool,
            "path": self.path,
            "runs": [
                {"run_id": r.run.run_id, "project": r.run.project, "name": r.run.name,
                 "source_run_id": r.run.details.source_run_id, "energy_j": r.run.energy_j,
                 "emissions_g": r.run.emissions_g, "already_stored": r.run.run_id in self.already_stored}
                for r in self.runs
            ],
            "imported": len(self.runs) - len(self.already_stored),
            "updated": len(self.already_stored),
        }


BATCH_SIZE = 500
"""Runs written per transaction: a few statements per batch, so 100,000 runs take seconds."""


def save_all(store: object, tool: str, path: str, runs: Sequence[ImportedRun]) -> ImportResult:
    """Save every run of one file (they were all validated first) in batches; says which ones were already
    stored."""
    items = ((r.run, r.components, r.intervals, r.tasks) for r in runs)
    existing = store.save_many(items, batch_size=BATCH_SIZE)  # type: ignore[attr-defined]
    return ImportResult(tool, path, runs if isinstance(runs, ImportedRuns) else tuple(runs), tuple(existing))
