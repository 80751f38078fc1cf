"""One encoder and one decoder for every record of every layer, driven by dataclass fields and type hints (stdlib).

``to_dict`` turns a record into JSON values (tuples become lists, nested records dicts, derived figures named in
``__wire_derived__`` are added); ``from_dict`` reads them back into the record, so ``from_dict(cls, to_dict(r)) ==
r``. Keys a newer writer added are ignored, and a field's old names (``metadata={"aliases": (...)}``) still read.
"""

from __future__ import annotations

import dataclasses
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    R = TypeVar("R")

__all__ = ["from_dict", "to_dict"]

_SCALARS = (str, int, float, bool, type(None))


def _encode(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (tuple, list)):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    return value


def to_dict(record: Any, *, sparse: bool = False) -> dict[str, Any]:
    """The record's JSON values by field name, in field order, then its derived figures; with ``sparse``, fields
    that are None or empty are left out, as they are always in a field marked ``metadata={"sparse": True}``."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if sparse and (value is None or value == () or value == {}):
            continue
        if f.metadata.get("sparse") and dataclasses.is_dataclass(value):  # a JSON column keeping only what it has
            data[f.name] = to_dict(value, sparse=True)
            continue
        data[f.name] = _encode(value)
    for name in getattr(type(record), "__wire_derived__", ()):
        data[name] = _encode(getattr(record, name))
    return data


_DECODERS: dict[Any, Callable[[Any, bool], Any]] = {}


def _same(value: Any, lenient: bool) -> Any:
    return value


def _to_float(value: Any, lenient: bool) -> Any:
    return float(value) if type(value) is int else value


def _decoder(hint: Any) -> Callable[[Any, bool], Any]:
    """A function reading JSON values of type ``hint``, built once per type (a long timeline decodes quickly)."""
    decoder = _DECODERS.get(hint)
    if decoder is None:
        decoder = _DECODERS[hint] = _build_decoder(hint)
    return decoder


def _build_decoder(hint: Any) -> Callable[[Any, bool], Any]:
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in args if arg is not type(None)]
        if len(options) != 1:
            return _same
        inner = _decoder(options[0])
        return lambda value, lenient: None if value is None else inner(value, lenient)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda value, lenient: tuple(item(v, lenient) for v in value)
        items = [_decoder(arg) for arg in args]
        return lambda value, lenient: tuple(d(v, lenient) for d, v in zip(items, value, strict=True))
    if origin is dict:
        item = _decoder(args[1]) if args else _same
        return lambda value, lenient: {k: item(v, lenient) for k, v in value.items()}
    if origin is list:
        item = _decoder(args[0]) if args else _same
        return lambda value, lenient: [item(v, lenient) for v in value]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        record: Any = hint
        return lambda value, lenient: value if isinstance(value, record) else from_dict(record, value,
                                                                                         lenient=lenient)
    if hint is float:
        return _to_float
    return _same


_FIELDS: dict[type, tuple[tuple[str, tuple[str, ...], Callable[[Any, bool], Any], bool], ...]] = {}


def _fields(cls: Any) -> tuple[tuple[str, tuple[str, ...], Callable[[Any, bool], Any], bool], ...]:
    """Per field: its name, the keys it reads (name, then old names), its decoder, and whether it is required.
    ``typing`` is imported on the first read, not with the codec."""
    found = _FIELDS.get(cls)
    if found is None:
        import typing

        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = tuple(
            (f.name, (f.name, *f.metadata.get("aliases", ())), _decoder(hints[f.name]),
             f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls) if f.init
        )
    return found


def from_dict(cls: type[R], data: Mapping[str, Any], *, lenient: bool = False) -> R:
    """The ``cls`` record that ``data`` (a :func:`to_dict` result, or an older one) describes; a field missing from
    ``data`` takes its default, and a required one missing raises TypeError naming it, or with ``lenient`` (data
    read back from a store, written by an older or partial writer) reads as None."""
    values: dict[str, Any] = {}
    for name, keys, decode, required in _fields(cls):
        for key in keys:
            if key in data:
                value = data[key]
                values[name] = None if value is None else decode(value, lenient)
                break
        else:
            if lenient and required:
                values[name] = None
    return cls(**values)
