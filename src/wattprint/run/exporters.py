"""Exporters turned on by the ``exporters`` setting (``track(exporters=["prometheus"])``, ``WATTPRINT_EXPORTERS``,
``wattprint.toml``, ``wattprint run --exporter``): each made once per process from the settings and attached to
the process's writer the first time a tracker needs it. Each is imported only when turned on; one that cannot be
made (its library missing, an option not set, a port taken) is logged once and stops neither the run nor the other
sinks."""

from __future__ import annotations

import os
import threading

from wattprint._log import warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.recording import Recording
    from wattprint.settings.typed import Settings
    from wattprint.sinks.base import RunSink

__all__ = ["attached_exporters", "detach_all", "export", "exporter_choices", "make_exporter"]

_sinks: dict[tuple[object, ...], RunSink] = {}
_failed: set[tuple[object, ...]] = set()
_lock = threading.Lock()


def exporter_choices() -> tuple[str, ...]:
    """The names the ``exporters`` setting takes: every sink but the team server's (its own ``server`` setting)."""
    from wattprint.exporters import exporter_names
    from wattprint.sinks import sink_names

    names = list(exporter_names())
    names += [name for name in sink_names() if name != "server" and name not in names]
    return tuple(names)


def _sink_class(name: str) -> type[RunSink]:
    """The class of exporter ``name``: a built-in one imported (ImportError naming its extra), else a sink from the
    registry (another package's entry point, or one registered)."""
    from wattprint import exporters, sinks

    return exporters.exporter_class(name) if name in exporters.BUILTIN else sinks.sink_class(name)


def make_exporter(name: str, settings: Settings) -> RunSink:
    """A new exporter ``name`` made from ``settings``: its class's ``from_settings(settings)`` when it has one (the
    built-in ones read their keys: ``prometheus_port``, ``mlflow_tracking_uri``...), else its class called with no
    arguments. Raises what making it raises (ImportError, ConfigError, OSError)."""
    cls = _sink_class(name)
    from_settings = getattr(cls, "from_settings", None)
    return from_settings(settings) if callable(from_settings) else cls()


def _key(name: str, settings: Settings) -> tuple[object, ...]:
    """What makes two exporters the same: the name and the values of the keys its class reads."""
    try:
        cls_keys = tuple(getattr(_sink_class(name), "settings_keys", ()))
    except Exception:  # noqa: BLE001 - making it will fail too, and say why
        cls_keys = ()
    return (name, *(getattr(settings, key) for key in cls_keys))


def export(tracker: Recording) -> bool:
    """Send the run the tracker is starting to the exporters of its ``exporters`` setting too, each made once per
    process for the same options; returns whether any sink is attached to the process (so a run with storing off
    still makes payloads for them). Never raises."""
    names = tracker.settings.exporters or ()
    for name in names:
        key = _key(name, tracker.settings)
        with _lock:
            sink = _sinks.get(key)
            if sink is None and key not in _failed:
                sink = _attach(name, key, tracker.settings)
        follow = getattr(sink, "follow", None)
        if sink is not None and tracker.run_id is not None and callable(follow):
            try:
                follow(tracker.run_id)  # the MLflow / W&B run active here is this run's
            except Exception as error:  # noqa: BLE001 - the run goes on without this exporter
                warn_once(f"exporter-follow:{name}", f"wattprint: the {name} exporter cannot follow the run: {error}")
    from wattprint.sinks.recorder import has_attached_sinks

    return has_attached_sinks()


def _attach(name: str, key: tuple[object, ...], settings: Settings) -> RunSink | None:
    from wattprint.sinks import attach

    try:
        sink = make_exporter(name, settings)
        attach(sink)
    except Exception as error:  # noqa: BLE001 - a missing library or a bad option must not stop the run
        _failed.add(key)
        warn_once(f"exporter:{name}", f"wattprint: the {name} exporter is off: {error}; the run goes on, "
                                      "stored and sent to the other exporters as set")
        return None
    _sinks[key] = sink
    return sink


def attached_exporters() -> tuple[RunSink, ...]:
    """The exporters the ``exporters`` setting has attached in this process."""
    with _lock:
        return tuple(_sinks.values())


def detach_all() -> None:
    """Detach (and close) every exporter the ``exporters`` setting attached, and forget those that failed."""
    from wattprint.sinks import detach

    with _lock:
        attached = list(_sinks.values())
        _sinks.clear()
        _failed.clear()
    for sink in attached:
        detach(sink)
        stop = getattr(sink, "stop", None)
        if callable(stop):
            stop()  # a /metrics endpoint it serves


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the sinks stay attached: the child's writer opens them anew


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
