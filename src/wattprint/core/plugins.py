"""Entry points of other packages, read the same way by every registry that takes them (report formats, intensity
providers): a broken installation is logged once and adds nothing, never raised into wattprint."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def entry_points_of(group: str) -> tuple[EntryPoint, ...]:
    """The entry points installed packages declare in ``group``, in the order metadata lists them; when the metadata
    cannot be read, a warning naming ``group`` is logged once and there are none."""
    if not declared(group):
        return ()
    try:
        from importlib.metadata import entry_points

        return tuple(entry_points(group=group))
    except Exception as error:  # noqa: BLE001 - a broken package must not stop wattprint
        from wattprint import _log

        _log.warn_once(f"entry-points:{group}", f"wattprint: could not read the {group} entry points: {error}")
        return ()


def declared(group: str) -> bool:
    """Whether any installed distribution's ``entry_points.txt`` names ``group``: a scan of a millisecond or two,
    where ``importlib.metadata`` parses every distribution's metadata (50-80 ms with ML frameworks installed), a
    cost every tracker's start would pay for the sensor families. Zipped eggs are not scanned."""
    needle = f"[{group}]"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, or a directory that is gone
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8",
                              errors="replace") as handle:
                        if needle in handle.read():
                            return True
                except OSError:
                    continue
    return False
