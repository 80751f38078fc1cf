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


def _check(hint: Any, value: Any, path: str, errors: list[FieldError]) -> None:
    if len(errors) >= MAX_ERRORS or hint is Any:
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            _check(options[0], value, path, errors)
        return
    if value is None:
        errors.append(FieldError(path, f"must be {_type_name(hint)}, not null"))
        return
    if origin in (tuple, list):
        if not isinstance(value, list):
            errors.append(FieldError(path, f"must be an array, got {type(value).__name__}"))
            return
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                errors.append(FieldError(path, f"must be an array of {len(args)} items, got {len(value)}"))
                return
            for i, (item_hint, item) in enumerate(zip(args, value, strict=True)):
                _check(item_hint, item, f"{path}[{i}]", errors)
            return
        item_hint = args[0] if args else Any
        for i, item in enumerate(value):
            _check(item_hint, item, f"{path}[{i}]", errors)
        return
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            errors.append(FieldError(path, f"must be an object, got {type(value).__name__}"))
            return
        if args:
            for key, item in value.items():
                _check(args[1], item, f"{path}.{key}", errors)
        return
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        check_record(hint, value, path, errors)
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            errors.append(FieldError(path, f"must be a number, got {json.dumps(value)[:40]}"))
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(path, f"must be an integer, got {json.dumps(value)[:40]}"))
        return
    if hint is bool:
        if not isinstance(value, bool):
            errors.append(FieldError(path, f"must be true or false, got {json.dumps(value)[:40]}"))
        return
    if hint is str and not isinstance(value, str):
        errors.append(FieldError(path, f"must be a string, got {json.dumps(value)[:40]}"))


_HINTS: dict[type, dict[str, Any]] = {}


def check_record(cls: type, value: Any, path: str, errors: list[FieldError]) -> None:
    """Append to ``errors`` what is wrong with ``value`` as a ``cls`` record (unknown keys are a newer writer's,
    ignored); a JSON column holding a record of its own (``metadata["shape"]``) is checked as that record."""
    if not isinstance(value, dict):
        errors.append(FieldError(path or "(body)", f"must be an object, got {type(value).__name__}"))
        return
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    prefix = f"{path}." if path else ""
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = next((k for k in (f.name, *f.metadata.get("aliases", ())) if k in value), None)
        if key is None:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                errors.append(FieldError(prefix + f.name, "is required"))
            continue
        item = value[key]
        shape = f.metadata.get("shape")
        if shape is not None and isinstance(item, dict):
            check_record(shape, item, prefix + f.name, errors)
        else:
            _check(hints[f.name], item, prefix + f.name, errors)
        if f.name in _NON_NEGATIVE and isinstance(item, (int, float)) and not isinstance(item, bool) and item < 0:
            errors.append(FieldError(prefix + f.name, f"must not be negative, got {item}"))


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
