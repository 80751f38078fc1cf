"""Bringing runs recorded by other tools into the store: CodeCarbon's emissions.csv, Carbontracker's logs.

Imported runs keep their figures as the files state them: components are marked ``imported``, and
``RunRecord.extra`` says where they came from (``imported_from``, ``file``, ``source_run_id``, ``source_fields``).
A file is read and checked whole before anything is stored, so a malformed file stores nothing; run ids derive
from the tool's own run ids, so importing a file again updates its runs instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wattprint.core.errors import check_choice, check_name
from wattprint.importers.common import IMPORTED, ImportedRun, ImportFormatError, ImportResult, stable_run_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "IMPORTED",
    "TOOLS",
    "ImportFormatError",
    "ImportResult",
    "ImportedRun",
    "import_runs",
    "read_runs",
    "stable_run_id",
]

TOOLS = ("codecarbon", "carbontracker")


def read_runs(tool: str, path: str | Path, *, project: str | None = None) -> Sequence[ImportedRun]:
    """The runs of one CodeCarbon CSV or one Carbontracker log directory, every record checked; nothing stored.

    ``project`` files them under that project (default: CodeCarbon's ``project_name``; none for Carbontracker).
    """
    from dataclasses import replace

    check_choice("tool", tool, TOOLS)
    check_name("project", project)
    runs: Sequence[ImportedRun]
    if tool == "codecarbon":
        from wattprint.importers.codecarbon import read_codecarbon

        runs = read_codecarbon(path)
    else:
        from wattprint.importers.carbontracker import read_carbontracker

        runs = read_carbontracker(path)
    if project is not None:
        from wattprint.importers.common import ImportedRuns

        original = runs
        runs = ImportedRuns(lambda: (replace(r, run=replace(r.run, project=project)) for r in original), len(runs))
    return runs


def import_runs(store: Any, tool: str, path: str | Path, *, project: str | None = None) -> ImportResult:
    """Read ``path`` (see :func:`read_runs`) and, only when all of it is valid, save its runs into ``store``."""
    from wattprint.importers.common import save_all

    runs = read_runs(tool, path, project=project)
    return save_all(store, tool, str(Path(path).resolve()), runs)
