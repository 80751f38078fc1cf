"""One encoder and one decoder for every record, driven by the dataclass fields and their type hints (stdlib only).

``to_dict`` turns a record into JSON values (tuples become lists, nested records dicts, derived figures named in
``__wire_derived__`` are added); ``from_dict`` reads them back into the record, so ``from_dict(cls, to_dict(r)) ==
r``. Keys a newer writer added are ignored, and a field's old names (``metadata={"aliases": (...)}``) still read.
"""

from __future__ import annotations

import dataclasses
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeVar

    R = TypeVar("R")

__all__ = ["from_dict", "to_dict"]

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of ``cls`` (``typing`` is imported on the first read, not with the codec)."""
    hints = _HINTS.get(cls)
    if hints is None:
        import typing

        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, (tuple, list)):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    return value


def to_dict(record: Any, *, sparse: bool = False) -> dict[str, Any]:
    """The record's JSON values by field name, in field order, then its derived figures; with ``sparse``, fields
    that are None or empty are left out (a run's ``extra`` keeps only what it has)."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if sparse and (value is None or value == () or value == {}):
            continue
        data[f.name] = _encode(value)
    for name in getattr(type(record), "__wire_derived__", ()):
        data[name] = _encode(getattr(record, name))
    return data


def _decode(hint: Any, value: Any, lenient: bool) -> Any:
    import typing

    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _decode(options[0], value, lenient) if len(options) == 1 else value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item, lenient) for item in value)
        return tuple(_decode(arg, item, lenient) for arg, item in zip(args, value, strict=True))
    if origin is dict:
        _, item_hint = typing.get_args(hint) or (str, typing.Any)
        return {key: _decode(item_hint, item, lenient) for key, item in value.items()}
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (typing.Any,)
        return [_decode(item_hint, item, lenient) for item in value]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else from_dict(hint, value, lenient=lenient)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(cls: type[R], data: Mapping[str, Any], *, lenient: bool = False) -> R:
    """The ``cls`` record that ``data`` (a :func:`to_dict` result, or an older one) describes; a field missing from
    ``data`` takes its default, and a required one missing raises TypeError naming it, or with ``lenient`` (data
    read back from a store, written by an older or partial writer) reads as None."""
    hints = _hints(cls)
    values: dict[str, Any] = {}
    record_type: Any = cls
    for f in dataclasses.fields(record_type):
        if not f.init:
            continue
        for key in (f.name, *f.metadata.get("aliases", ())):
            if key in data:
                values[f.name] = _decode(hints[f.name], data[key], lenient)
                break
        else:
            if lenient and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                values[f.name] = None
    return cls(**values)
