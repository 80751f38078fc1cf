"""Where runs go: the one background writer per process, and the sinks it writes every payload to.

Every tracker's payloads go to the store of its ``store`` setting (:class:`~wattprint.sinks.store.StoreSink`, with
the local spool as its outbox) and to every sink attached to the process (:func:`attach`): the server upload and
the exporters are such sinks, one module each. A sink class is registered by name (:func:`register`, or the
``wattprint.sinks`` entry points of other packages) and made with :func:`make_sink`. Importing this package
imports no sink module.
"""

from __future__ import annotations

from collections.abc import Sequence

from wattprint.core.plugins import Registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.sinks.base import RunSink

__all__ = ["ENTRY_POINT_GROUP", "attach", "detach", "make_sink", "register", "sink_class", "sink_names", "unregister"]

ENTRY_POINT_GROUP = "wattprint.sinks"
"""Entry points in this group (``name = "package.module:Class"``) add sinks from other packages."""

def _check(cls: object, taken: Sequence[type[Any]]) -> str | None:
    """Why ``cls`` cannot be a sink beside ``taken`` (not a sink class, or its name used), or None."""
    from wattprint.sinks.base import is_sink

    if not (isinstance(cls, type) and is_sink(cls)):
        return f"{cls!r} is not a sink: a class with a name and open, write and close methods"
    name = getattr(cls, "name", None)
    for other in taken:
        if getattr(other, "name", None) == name:
            return f"the sink name {name!r} is taken ({other.__module__}.{other.__qualname__})"
    return None


REGISTRY: Registry[type[Any]] = Registry("sink", ENTRY_POINT_GROUP,
                                         {"server": "wattprint.sinks.server:ServerSink"}, _check)
"""The sink classes: built-in (the team server's; the exporters come as this package's entry points), from entry
points, then registered."""


def register(cls: type[RunSink]) -> type[RunSink]:
    """Make the sink class ``cls`` available as ``cls.name`` (usable as a class decorator); returns ``cls``. A name
    another sink has is a ValueError (``unregister`` it first to replace it), what is no sink class a TypeError."""
    from wattprint.sinks.base import is_sink

    if not (isinstance(cls, type) and is_sink(cls)):
        raise TypeError(f"{cls!r}: a sink must be a class with a name and open, write and close methods")
    return REGISTRY.register(cls)


def unregister(name: str) -> None:
    """Forget a sink class added with :func:`register`."""
    REGISTRY.unregister(name)


def sink_names() -> tuple[str, ...]:
    """Every sink name: from entry points, then registered."""
    return REGISTRY.names()


def sink_class(name: str) -> type[RunSink]:
    """The class of sink ``name``; ConfigError for an unknown name (or one whose entry point fails to load)."""
    found = REGISTRY.find(name)
    if found is None:
        from wattprint.core.errors import ConfigError

        known = ", ".join(sink_names()) or "none is installed"
        raise ConfigError(f"sink {name!r} is not known; known sinks: {known}")
    return found


def make_sink(name: str, **options: Any) -> RunSink:
    """A new sink of class ``name``, made with ``options``."""
    return sink_class(name)(**options)


def attach(sink: RunSink) -> RunSink:
    """Write every payload of every run of this process (and of its forked children) to ``sink`` too, from the
    next flush on; returns ``sink``. The writer thread opens it before its first write."""
    from wattprint.sinks.base import is_sink

    if not is_sink(sink):
        raise TypeError(f"{sink!r}: a sink must have a name and open, write and close methods")
    from wattprint.sinks.recorder import attach_sink

    attach_sink(sink)
    return sink


def detach(sink: RunSink) -> None:
    """Stop writing to ``sink``, after the write in progress, and close it if it was opened."""
    from wattprint.sinks.recorder import detach_sink

    detach_sink(sink)
