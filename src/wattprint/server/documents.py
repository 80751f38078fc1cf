"""Reading a request body into a record: parsed and checked against the record's type hints in one pass by
pydantic-core (the validator FastAPI itself runs on), each fault named by its path (``run.energy_j``,
``intervals[3].bucket``). A bad document is refused whole, before anything is written.

The schema is built once per record type from its dataclass fields, the same fields and old names (``aliases``)
the codec reads (``core.codec``): JSON types are strict (no ``"12"`` for a number, no ``1.5`` for an integer),
numbers are finite, energies and durations are not negative, keys a newer writer added are ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import types
import typing
from typing import Any, TypeVar

from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from wattprint.api.records import STATUSES, RunDocument
from wattprint.server.problems import FieldError, Problem, invalid

R = TypeVar("R")

MAX_ERRORS = 20
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_NON_NEGATIVE = ("energy_j", "duration_s")


def _non_finite(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _not_json(error: Exception | str) -> Problem:
    return Problem(400, "malformed-json", f"the request body is not valid JSON ({error}); send a JSON document "
                   "with Content-Type: application/json")


def parse_json(body: bytes) -> Any:
    """The body as JSON; 400 when it is not JSON (NaN and Infinity included: JSON has no such numbers)."""
    try:
        return json.loads(body, parse_constant=_non_finite)
    except (ValueError, UnicodeDecodeError) as error:
        raise _not_json(error) from error


# -- the schema ----------------------------------------------------------------------------------------------------


def _schema(hint: Any, name: str, records: dict[type, Any]) -> Any:
    """The pydantic-core schema of values of type ``hint`` (of a field called ``name``)."""
    if hint is Any:
        return cs.any_schema()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        inner = _schema(options[0], name, records) if len(options) == 1 else cs.any_schema()
        return cs.nullable_schema(inner) if type(None) in args else inner
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return cs.tuple_schema([_schema(args[0], "", records)], variadic_item_index=0, strict=True)
        return cs.tuple_schema([_schema(a, "", records) for a in args], strict=True)
    if origin is list:
        return cs.list_schema(_schema(args[0], "", records) if args else cs.any_schema(), strict=True)
    if origin is dict or hint is dict:
        return cs.dict_schema(cs.str_schema(), _schema(args[1], "", records) if args else cs.any_schema(),
                              strict=True)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint, records)
    if hint is float:
        return cs.float_schema(allow_inf_nan=False, ge=0 if name in _NON_NEGATIVE else None, strict=True)
    if hint is int:
        return cs.int_schema(strict=True)
    if hint is bool:
        return cs.bool_schema(strict=True)
    return cs.str_schema(strict=True) if hint is str else cs.any_schema()


def _record(cls: type, records: dict[type, Any]) -> Any:
    """A reference to the schema of ``cls`` records, defined once in ``records`` (records nest and repeat)."""
    ref = f"{cls.__module__}.{cls.__qualname__}"
    if cls not in records:
        records[cls] = None  # being built: a record that holds itself refers to it
        hints = typing.get_type_hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            schema = _schema(hints[f.name], f.name, records)
            if f.default is not dataclasses.MISSING:
                schema = cs.with_default_schema(schema, default=f.default)
            elif f.default_factory is not dataclasses.MISSING:
                schema = cs.with_default_schema(schema, default_factory=f.default_factory)
            aliases = f.metadata.get("aliases", ())
            fields.append(cs.dataclass_field(f.name, schema, validation_alias=[[f.name], *([a] for a in aliases)]
                                             if aliases else None))
        records[cls] = cs.dataclass_schema(cls, cs.dataclass_args_schema(cls.__name__, fields),
                                           [f["name"] for f in fields], ref=ref, strict=True)
    return cs.definition_reference_schema(ref)


@functools.cache
def _validator(cls: Any) -> SchemaValidator:
    records: dict[type, Any] = {}
    top = _record(cls, records)
    return SchemaValidator(cs.definitions_schema(top, list(records.values())),
                           cs.CoreConfig(strict=True, allow_inf_nan=False))


# -- faults, in the request's terms ----------------------------------------------------------------------------------

_KINDS = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false", "string_type": "a string",
    "tuple_type": "an array", "list_type": "an array", "dict_type": "an object", "dataclass_type": "an object",
    "dataclass_exact_type": "an object", "model_type": "an object",
}


def _path(location: tuple[str | int, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _fault(error: Any) -> FieldError:
    kind, value, location = error["type"], error.get("input"), error["loc"]
    path = _path(location)
    if kind == "missing" and location and isinstance(location[-1], int):  # an item of a fixed-length array
        return FieldError(_path(location[:-1]), f"is too short: it has no item [{location[-1]}]")
    if kind == "missing":
        return FieldError(path, "is required")
    if kind == "greater_than_equal":
        return FieldError(path, f"must not be negative, got {value}")
    if kind == "finite_number":
        return FieldError(path, f"must be a finite number, got {value}")
    if kind in ("too_short", "too_long"):
        context = error.get("ctx", {})
        return FieldError(path, f"must be an array of {context.get('min_length', context.get('max_length'))} items")
    if kind in _KINDS:
        shown = "null" if value is None else json.dumps(value)[:40]
        return FieldError(path, f"must be {_KINDS[kind]}, {'not' if value is None else 'got'} {shown}")
    return FieldError(path, error["msg"])


def _refusal(error: ValidationError, body: bytes, what: str) -> Problem:
    """The answer to a body that is not a ``what``: 400 when it is not JSON, else 422 naming each field at fault."""
    errors = error.errors(include_url=False)
    broken = next((e for e in errors if e["type"] == "json_invalid"), None)
    if broken is not None:
        return _not_json(broken["msg"])
    parse_json(body)  # JSON's missing numbers (NaN, Infinity) are a 400, as anywhere else
    faults = list({fault.field: fault for fault in map(_fault, reversed(errors))}.values())[::-1]
    return invalid(faults[:MAX_ERRORS], what)


def read_record(cls: type[R], body: bytes, what: str) -> R:
    """The body as a ``cls`` record; 400 when it is not JSON, 422 naming every field at fault."""
    try:
        return typing.cast(R, _validator(typing.cast(Any, cls)).validate_json(body))
    except ValidationError as error:
        raise _refusal(error, body, what) from None


def read_document(body: bytes, run_id: str) -> RunDocument:
    """A run document sent for ``run_id``: the record checked, the run's id and status checked as the store would."""
    document = read_record(RunDocument, body, "the run document")
    run = document.run
    errors: list[FieldError] = []
    if not _RUN_ID.match(run.run_id):
        errors.append(FieldError("run.run_id", "must be 32 lowercase hex digits (a uuid4 without dashes)"))
    elif run.run_id != run_id:
        errors.append(FieldError("run.run_id", f"is {run.run_id} but the URL names run {run_id}: PUT a run "
                                               "to /api/v1/runs/<its run_id>"))
    if run.status not in STATUSES:
        errors.append(FieldError("run.status", f"must be one of {', '.join(STATUSES)}, got {run.status!r}"))
    if errors:
        raise invalid(errors, "the run document")
    return document
