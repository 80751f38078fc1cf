"""Entry points of other packages, read the same way by every registry that takes them (report formats, intensity
providers): a broken installation is logged once and adds nothing, never raised into wattprint."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def entry_points_of(group: str) -> tuple[EntryPoint, ...]:
    """The entry points installed packages declare in ``group``, in the order metadata lists them; when the metadata
    cannot be read, a warning naming ``group`` is logged once and there are none."""
    try:
        from importlib.metadata import entry_points

        return tuple(entry_points(group=group))
    except Exception as error:  # noqa: BLE001 - a broken package must not stop wattprint
        from wattprint import _log

        _log.warn_once(f"entry-points:{group}", f"wattprint: could not read the {group} entry points: {error}")
        return ()
