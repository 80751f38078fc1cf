"""Where runs go: the one background writer per process, and the sinks it writes every payload to.

Every tracker's payloads go to the store of its ``store`` setting (:class:`~wattprint.sinks.store.StoreSink`, with
the local spool as its outbox) and to every sink attached to the process (:func:`attach`): the server upload and
the exporters are such sinks, one module each. A sink class is registered by name (:func:`register`, or the
``wattprint.sinks`` entry points of other packages) and made with :func:`make_sink`. Importing this package
imports no sink module.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.sinks.base import RunSink

__all__ = ["ENTRY_POINT_GROUP", "attach", "detach", "make_sink", "register", "sink_class", "sink_names", "unregister"]

ENTRY_POINT_GROUP = "wattprint.sinks"
"""Entry points in this group (``name = "package.module:Class"``) add sinks from other packages."""

_registered: dict[str, type[Any]] = {}
_registry_lock = threading.Lock()
_entry_points: dict[str, Any] | None = None


def register(cls: type[RunSink]) -> type[RunSink]:
    """Make the sink class ``cls`` available as ``cls.name`` (usable as a class decorator); returns ``cls``."""
    from wattprint.sinks.base import is_sink

    if not (isinstance(cls, type) and is_sink(cls)):
        raise TypeError(f"{cls!r}: a sink must be a class with a name and open, write and close methods")
    with _registry_lock:
        _registered[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Forget a sink class added with :func:`register`."""
    with _registry_lock:
        _registered.pop(name, None)


def _plugins() -> dict[str, Any]:
    """The entry points of :data:`ENTRY_POINT_GROUP`, read once; a broken installation is logged once, not raised."""
    global _entry_points
    if _entry_points is None:
        from wattprint.core.plugins import entry_points_of

        found: dict[str, Any] = {}
        for point in entry_points_of(ENTRY_POINT_GROUP):
            found.setdefault(point.name, point)
        _entry_points = found
    return _entry_points


def sink_names() -> tuple[str, ...]:
    """Every sink name: registered, then from entry points."""
    with _registry_lock:
        names = list(_registered)
    return tuple(names + [name for name in _plugins() if name not in names])


def sink_class(name: str) -> type[RunSink]:
    """The class of sink ``name``; ConfigError for an unknown name (or one whose entry point fails to load)."""
    with _registry_lock:
        registered = _registered.get(name)
    if registered is not None:
        return registered
    point = _plugins().get(name)
    if point is not None:
        try:
            return register(point.load())
        except Exception as error:  # noqa: BLE001 - a broken plug-in is reported, not raised from deep inside
            from wattprint import _log

            _log.warn_once(f"entry-point:{ENTRY_POINT_GROUP}:{name}",
                           f"wattprint: sink {name!r} ({point.value}) could not be loaded: {error}")
    from wattprint.core.errors import ConfigError

    known = ", ".join(sink_names()) or "none is installed"
    raise ConfigError(f"sink {name!r} is not known; known sinks: {known}")


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
