#!/usr/bin/env python3
"""Generate the JSON Schema of wattprint's wire format from its records.

    python scripts/build_schema.py [--check]

Reads the records of ``wattprint.api.records`` (``RECORDS``) and writes one JSON Schema (draft 2020-12) with a
definition per record to ``src/wattprint/api/schema/records.schema.json``. The committed file is this script's
output; ``--check`` exits 1 when it differs (``tests/api/test_schema.py`` does the same). Needs pydantic (the
``test`` extra), which wattprint itself never imports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "src" / "wattprint" / "api" / "schema" / "records.schema.json"
REF = "#/$defs/{model}"


def _record_schema(cls: type, defs: dict[str, Any]) -> None:
    from pydantic import TypeAdapter

    schema = TypeAdapter(cls).json_schema(ref_template=REF)
    for name, nested in schema.pop("$defs", {}).items():  # a record's own definition (below) wins over a nested copy
        defs.setdefault(name, nested)
    for name in getattr(cls, "__wire_derived__", ()):  # figures to_dict adds, derived from the fields
        hint = typing.get_type_hints(getattr(cls, name).fget)["return"]
        derived = TypeAdapter(hint).json_schema(ref_template=REF)
        derived["description"] = "derived: " + (getattr(cls, name).__doc__ or name).strip().splitlines()[0]
        schema["properties"][name] = derived
    for f in dataclasses.fields(cls):  # a record kept sparse (RunRecord.extra): only what it has is written
        if f.metadata.get("sparse"):
            schema["properties"][f.name]["description"] = "written sparse: keys without a value are left out"
    defs[cls.__name__] = schema


def build() -> str:
    """The schema document, as the committed file holds it."""
    sys.path.insert(0, str(REPO / "src"))
    from wattprint.api.records import RECORDS, WIRE_VERSION

    defs: dict[str, Any] = {}
    for cls in RECORDS:
        _record_schema(cls, defs)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://wattprint.org/schema/wire/v{WIRE_VERSION}/records.schema.json",
        "title": "wattprint wire format",
        "description": "The records wattprint writes (store rows, spool files, --json, exports, the server API), "
                       "generated from wattprint.api.records by scripts/build_schema.py; docs/wire-format.md.",
        "version": WIRE_VERSION,
        "anyOf": [{"$ref": REF.format(model=cls.__name__)} for cls in RECORDS],
        "$defs": {name: defs[name] for name in sorted(defs)},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed schema differs")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH} is out of date: run python scripts/build_schema.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
