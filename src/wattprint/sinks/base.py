"""What a sink is: somewhere the recorder's one background thread writes every payload of every run.

The store (with the local spool as its outbox, :mod:`wattprint.sinks.store`) is one; the server upload and the
exporters are others. The writer thread opens a sink before its first write, hands it each payload in the order
they were made, and closes it when it is detached; a sink that raises is logged once and skipped for that payload,
and the other sinks, and the user's job, never see its exception.
"""

from __future__ import annotations

from typing import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.sinks.payload import Payload


class RunSink(Protocol):
    """Where runs go: ``open()``, then ``write(payload)`` for each flush of each run, then ``close()``.

    A payload holds the run's record (its newest state, ``updated_at`` growing), its per-device totals, the
    interval buckets that changed and the task windows that ended since the previous payload of that run;
    ``run.status`` is ``running`` until the run's final payload. Calls come from the writer thread only
    (``close`` may come from the thread that detaches the sink), so a sink needs no lock of its own.
    """

    name: str
    """The sink's name: in the registry, and in what is logged when it fails."""

    def open(self) -> None:
        """Get ready to write (connect, open a file); raising leaves the sink closed, to be tried again."""
        ...

    def write(self, payload: Payload) -> None:
        """Take one payload; raising loses this payload for this sink only."""
        ...

    def close(self) -> None:
        """Flush and release what ``open`` took; the sink may be opened again afterwards."""
        ...


def is_sink(obj: object) -> bool:
    """Whether ``obj`` (a sink or its class) has a name and the three methods of a :class:`RunSink`."""
    name = getattr(obj, "name", None)
    return isinstance(name, str) and bool(name) and all(
        callable(getattr(obj, method, None)) for method in ("open", "write", "close")
    )
