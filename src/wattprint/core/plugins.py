"""Plug-ins: the one registry of named entries (sensor families, live providers, report formats, sinks) and the
entry points of other packages it reads; a broken installation is logged once and adds nothing, never raised."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

T = TypeVar("T")


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


class Registry(Generic[T]):
    """Named plug-ins of one kind (sensor families, live providers, report formats, sinks), in one order: the
    built-in ones, those other packages declare in the entry point group ``group``, then those :meth:`register`
    added. A built-in entry may be a ``"module:attribute"`` line, imported on first use; an entry point is loaded
    when it is first needed, and one that fails to load or that ``check`` refuses is logged once and skipped."""

    def __init__(self, what: str, group: str, built_in: Mapping[str, T | str],
                 check: Callable[[object, Sequence[T]], str | None]) -> None:
        self.what = what
        """What one entry is, for messages (``"report format"``)."""
        self.group = group
        self._built_in = dict(built_in)
        self._check = check
        self._registered: dict[str, T] = {}
        self._points: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, T] = {}
        self._problems: dict[str, str] = {}
        self._loading: set[str] = set()
        self._lock = threading.RLock()  # re-entrant: a plug-in's module may call register() while it loads

    def register(self, item: T) -> T:
        """Add ``item`` after the others; returns it (usable as a class decorator). One that ``check`` refuses, a
        name already used among them, is a ValueError saying why (``unregister`` the other first to replace it)."""
        with self._lock:
            name = getattr(item, "name", None)
            if isinstance(name, str) and self._declares(name, item):  # a declared module registering itself
                return item
            problem = self._check(item, self.all())
            if problem:
                raise ValueError(f"cannot register {name if name else item!r}: {problem}")
            self._registered[str(name)] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove what :meth:`register` added as ``name`` (built-in entries and entry points stay)."""
        with self._lock:
            self._registered.pop(name, None)

    def names(self) -> tuple[str, ...]:
        """Every name, in order, without importing or loading anything."""
        with self._lock:
            names = [*self._built_in, *self._entry_points()]
            return tuple(dict.fromkeys([*names, *self._registered]))

    def all(self) -> tuple[T, ...]:
        """Every usable entry, in order (built-in ones imported, entry points loaded)."""
        with self._lock:
            found = [self._resolve(name) for name in self._built_in]
            for name in self._entry_points():
                item = self._plugin(name, found)
                if item is not None:
                    found.append(item)
            return (*found, *self._registered.values())

    def find(self, name: str) -> T | None:
        """The entry called ``name``, or None (an entry point that cannot be used is logged once and is None)."""
        with self._lock:
            if name in self._registered:
                return self._registered[name]
            if name in self._built_in:
                return self._resolve(name)
            if name in self._entry_points():
                return self._plugin(name, [self._resolve(n) for n in self._built_in])
            return None

    def refresh(self) -> None:
        """Read the entry points again on next use: a package installed since (in a notebook) joins, and one that
        failed is tried again."""
        with self._lock:
            self._points = None
            self._loaded.clear()
            self._problems.clear()

    def problems(self) -> tuple[str, ...]:
        """Why each entry point that could not be used was skipped, for ``doctor``."""
        with self._lock:
            return tuple(self._problems.values())

    def _declares(self, name: str, item: T) -> bool:
        """Whether ``name`` is a built-in line or an entry point naming ``item`` itself; then it is that entry."""
        where = f"{getattr(item, '__module__', '')}:{getattr(item, '__qualname__', '')}"
        line = self._built_in.get(name)
        if line == where or line is item:
            self._built_in[name] = item
            return True
        point = self._entry_points().get(name)
        if point is not None and point.value == where:
            self._loaded[name] = item
            return True
        return False

    def _resolve(self, name: str) -> T:
        entry = self._built_in[name]
        if isinstance(entry, str):
            import importlib

            module, _, attribute = entry.partition(":")
            entry = self._built_in[name] = getattr(importlib.import_module(module), attribute)
        return entry

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._points is None:
            self._points = {}
            for point in entry_points_of(self.group):
                if point.name not in self._built_in:
                    self._points.setdefault(point.name, point)
        return self._points

    def _plugin(self, name: str, taken: Sequence[T]) -> T | None:
        if name in self._loaded:
            return self._loaded[name]
        if name in self._problems or name in self._loading:  # a plug-in's module that registers while it loads
            return None
        point = self._entry_points()[name]
        self._loading.add(name)
        try:
            item = point.load()
            others = [loaded for key, loaded in self._loaded.items() if key != name]  # it may register itself
            problem = self._check(item, [*taken, *others])
        except Exception as error:  # noqa: BLE001 - a broken plug-in must not break the others
            problem = f"it failed to load: {type(error).__name__}: {error}"
        finally:
            self._loading.discard(name)
        if problem:
            from wattprint import _log

            message = f"{self.what} {name!r} from {point.value} is skipped: {problem}"
            self._problems[name] = message
            _log.warn_once(f"entry-point:{self.group}:{name}", f"wattprint: {message}")
            return None
        self._loaded[name] = item
        return item
