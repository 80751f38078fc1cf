"""What every importer shares: the error that names the file, line and field; stable run ids; saving all or none."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wattprint.errors import WattprintError
from wattprint.store.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord

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


def number(path: str | Path, text: object, name: str, line: int | None, *, minimum: float = 0.0,
           optional: bool = False) -> float | None:
    """``text`` as a finite float of at least ``minimum``; an ImportFormatError naming the field otherwise."""
    if text is None or (isinstance(text, str) and not text.strip()):
        if optional:
            return None
        raise ImportFormatError(path, "is empty; a number is expected", line=line, field_name=name)
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ImportFormatError(path, f"{text!r} is not a number", line=line, field_name=name) from None
    if not math.isfinite(value):
        if optional:
            return None
        raise ImportFormatError(path, f"{text!r} is not a finite number", line=line, field_name=name)
    if value < minimum:
        raise ImportFormatError(path, f"{value!r} is below {minimum:g}", line=line, field_name=name)
    return value


@dataclass(frozen=True)
class ImportedRun:
    """The records of one imported run, ready for ``RunStore.save``."""

    run: RunRecord
    components: tuple[ComponentRecord, ...] = ()
    intervals: tuple[IntervalRecord, ...] = ()
    tasks: tuple[TaskRecord, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the runs it read (all of them saved), and which of them were already in the store."""

    tool: str
    path: str
    runs: tuple[ImportedRun, ...]
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
                 "source_run_id": (r.run.extra or {}).get("source_run_id"), "energy_j": r.run.energy_j,
                 "emissions_g": r.run.emissions_g, "already_stored": r.run.run_id in self.already_stored}
                for r in self.runs
            ],
            "imported": len(self.runs) - len(self.already_stored),
            "updated": len(self.already_stored),
        }


def save_all(store: object, tool: str, path: str, runs: Sequence[ImportedRun]) -> ImportResult:
    """Save every run of one file (they were all validated first); says which ones were already stored."""
    existing = []
    for imported in runs:
        try:
            store.run(imported.run.run_id)  # type: ignore[attr-defined]
            existing.append(imported.run.run_id)
        except LookupError:
            pass
    for imported in runs:
        store.save(imported.run, imported.components, imported.intervals, imported.tasks)  # type: ignore[attr-defined]
    return ImportResult(tool, path, tuple(runs), tuple(existing))
