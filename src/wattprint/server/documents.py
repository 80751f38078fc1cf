"""Reading a request body into a record: every value checked against the record's type hints, each fault named
by its path (``run.energy_j``, ``intervals[3].bucket``), then decoded by the one codec (``api.codec``).

Checking first and decoding second means a bad document is refused whole, before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from wattprint.api.records import STATUSES, RunDocument
from wattprint.core.codec import from_dict
from wattprint.server.problems import FieldError, Problem, invalid

R = TypeVar("R")

MAX_ERRORS = 20
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_NON_NEGATIVE = ("energy_j", "duration_s")


def _non_finite(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """The body as JSON; 400 when it is not JSON (NaN and Infinity included: JSON has no such numbers)."""
    try:
        return json.loads(body, parse_constant=_non_finite)
    except (ValueError, UnicodeDecodeError) as error:
        raise Problem(400, "malformed-json", f"the request body is not valid JSON ({error}); send a JSON document "
                      "with Content-Type: application/json") from error


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple or origin is list:
        return "an array"
    if origin is dict or dataclasses.is_dataclass(hint):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(hint, str(hint))


Check = Callable[[Any, str, list[FieldError]], None]
"""Appends to the list what is wrong with a value at a path."""

_CHECKS: dict[Any, Check] = {}


def _shown(value: Any) -> str:
    return json.dumps(value)[:40]


def _checker(hint: Any) -> Check:
    """The check of values of type ``hint``, built once per type (a run's thousands of intervals check fast)."""
    check = _CHECKS.get(hint)
    if check is None:
        check = _CHECKS[hint] = _build(hint)
    return check


def _ignore(value: Any, path: str, errors: list[FieldError]) -> None:
    return None


def _is_number(value: Any, path: str, errors: list[FieldError]) -> None:
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            errors.append(FieldError(path, f"must be a finite number, got {value}"))
    elif kind is not int:
        errors.append(FieldError(path, f"must be a number, got {_shown(value)}"))


def _is_int(value: Any, path: str, errors: list[FieldError]) -> None:
    if type(value) is not int:
        errors.append(FieldError(path, f"must be an integer, got {_shown(value)}"))


def _is_bool(value: Any, path: str, errors: list[FieldError]) -> None:
    if type(value) is not bool:
        errors.append(FieldError(path, f"must be true or false, got {_shown(value)}"))


def _is_str(value: Any, path: str, errors: list[FieldError]) -> None:
    if type(value) is not str:
        errors.append(FieldError(path, f"must be a string, got {_shown(value)}"))


def _build(hint: Any) -> Check:
    if hint is Any:
        return _ignore
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        inner = _checker(options[0]) if len(options) == 1 else _ignore
        nullable = type(None) in args

        def optional(value: Any, path: str, errors: list[FieldError]) -> None:
            if value is None:
                if not nullable:
                    errors.append(FieldError(path, "must not be null"))
                return
            inner(value, path, errors)
        return optional
    name = _type_name(hint)

    def present(check: Check) -> Check:
        def not_null(value: Any, path: str, errors: list[FieldError]) -> None:
            if value is None:
                errors.append(FieldError(path or "(body)", f"must be {name}, not null"))
            else:
                check(value, path, errors)
        return not_null

    if origin in (tuple, list):
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            items = [_checker(a) for a in args]

            def fixed(value: Any, path: str, errors: list[FieldError]) -> None:
                if type(value) is not list or len(value) != len(items):
                    errors.append(FieldError(path, f"must be an array of {len(items)} items"))
                    return
                for i, (check, item) in enumerate(zip(items, value, strict=True)):
                    check(item, f"{path}[{i}]", errors)
            return present(fixed)
        each = _checker(args[0]) if args else _ignore

        def array(value: Any, path: str, errors: list[FieldError]) -> None:
            if type(value) is not list:
                errors.append(FieldError(path, f"must be an array, got {type(value).__name__}"))
                return
            for i, item in enumerate(value):
                if len(errors) >= MAX_ERRORS:
                    return
                each(item, f"{path}[{i}]", errors)
        return present(array)
    if origin is dict or hint is dict:
        each = _checker(args[1]) if args else _ignore

        def mapping(value: Any, path: str, errors: list[FieldError]) -> None:
            if type(value) is not dict:
                errors.append(FieldError(path, f"must be an object, got {type(value).__name__}"))
                return
            if each is not _ignore:
                for key, item in value.items():
                    each(item, f"{path}.{key}", errors)
        return present(mapping)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return present(_record_checker(hint))
    simple = {float: _is_number, int: _is_int, bool: _is_bool, str: _is_str}.get(hint, _ignore)
    return present(simple)


def _record_checker(cls: type) -> Check:
    """The check of a ``cls`` record: required fields present, each field's value checked by its hint; unknown keys
    are a newer writer's, ignored; a JSON column holding a record of its own (``metadata["shape"]``) is checked as
    that record."""
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        shape = f.metadata.get("shape")
        plan.append((f.name, (f.name, *f.metadata.get("aliases", ())), required, _checker(hints[f.name]),
                     _record_checker(shape) if shape is not None else None, f.name in _NON_NEGATIVE))

    def record(value: Any, path: str, errors: list[FieldError]) -> None:
        if type(value) is not dict:
            errors.append(FieldError(path or "(body)", f"must be an object, got {type(value).__name__}"))
            return
        prefix = f"{path}." if path else ""
        for name, keys, required, check, shape, non_negative in plan:
            if name in value:
                item = value[name]
            else:
                key = next((k for k in keys if k in value), None)
                if key is None:
                    if required:
                        errors.append(FieldError(prefix + name, "is required"))
                    continue
                item = value[key]
            if shape is not None and type(item) is dict:
                shape(item, prefix + name, errors)
            else:
                check(item, prefix + name, errors)
            if non_negative and type(item) in (int, float) and item < 0:
                errors.append(FieldError(prefix + name, f"must not be negative, got {item}"))
    return record


def check_record(cls: type, value: Any, path: str, errors: list[FieldError]) -> None:
    """Append to ``errors`` what is wrong with ``value`` as a ``cls`` record."""
    _checker(cls)(value, path, errors)


def read_record(cls: type[R], data: Any, what: str) -> R:
    """``data`` as a ``cls`` record; a 422 naming every field at fault."""
    errors: list[FieldError] = []
    check_record(cls, data, "", errors)
    if errors:
        raise invalid(errors, what)
    return from_dict(cls, data)


def read_document(data: Any, run_id: str) -> RunDocument:
    """A run document sent for ``run_id``: the record checked, the run's id and status checked as the store would."""
    errors: list[FieldError] = []
    check_record(RunDocument, data, "", errors)
    if not errors:
        run = data["run"]
        if not _RUN_ID.match(run["run_id"]):
            errors.append(FieldError("run.run_id", "must be 32 lowercase hex digits (a uuid4 without dashes)"))
        elif run["run_id"] != run_id:
            errors.append(FieldError("run.run_id", f"is {run['run_id']} but the URL names run {run_id}: PUT a run "
                                                   "to /api/v1/runs/<its run_id>"))
        if run["status"] not in STATUSES:
            errors.append(FieldError("run.status", f"must be one of {', '.join(STATUSES)}, got {run['status']!r}"))
    if errors:
        raise invalid(errors, "the run document")
    return from_dict(RunDocument, data)
