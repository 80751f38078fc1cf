"""The JavaScript calculator's data: the tables ``wattprint.plan`` prices with, exported as one JSON file.

``scripts/build_data.py`` calls :func:`calculator_json` on the tables it has just built and writes the result to
``clients/js/src/data/calculator-data.json`` (committed; ``tests/js/test_js_calculator.py`` checks that it equals
what the package's tables give now). Every row keeps its source, year and licence, and ATTRIBUTION.md travels with
it. The Electricity Maps rows (ODbL) are left out: they live in a file of their own under their own licence.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

JS_DATA = Path(__file__).resolve().parents[1] / "clients" / "js" / "src" / "data" / "calculator-data.json"

_TABLES: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    # name: (the generated CSV, its columns kept, the numeric columns: "float" or "int")
    "intensity": ("intensity.csv", (
        "key", "kind", "name", "country", "continent", "intensity_g_per_kwh", "year", "basis", "source", "licence",
        "aliases", "provider", "region", "zone", "grid_factor", "cfe_fraction",
    ), {"intensity_g_per_kwh": "float", "year": "int", "cfe_fraction": "float"}),
    "gpu": ("gpu_tdp.csv", ("key", "name", "kind", "tdp_w", "memory_gb", "form", "source", "licence"),
            {"tdp_w": "float", "memory_gb": "float"}),
    "cpu": ("cpu_tdp.csv", ("key", "name", "tdp_w", "cores", "source", "licence", "note"),
            {"tdp_w": "float", "cores": "int"}),
    "pue_wue": ("pue_wue.csv", (
        "provider", "metric", "region", "value", "year", "is_default", "scope", "confidence", "source", "licence",
    ), {"value": "float", "year": "int", "is_default": "bool"}),
    "equivalences": ("equivalences.csv", ("key", "g_co2e_per_unit", "unit", "vintage", "status", "source", "licence"),
                     {"g_co2e_per_unit": "float"}),
}


def _value(text: str, kind: str | None) -> object:
    if kind is None:
        return text if text != "" else None
    if text == "":
        return None
    if kind == "bool":
        return text == "1"
    return int(text) if kind == "int" else float(text)


def calculator_json(outputs: Mapping[str, bytes]) -> bytes:
    """The JSON file for the generated tables ``outputs`` (file name -> bytes, as ``build_all`` returns them):
    one ``{"columns", "rows"}`` table per name, the attribution text, and the build's table hashes."""
    tables: dict[str, dict[str, Sequence[object]]] = {}
    for name, (file, columns, kinds) in _TABLES.items():
        reader = csv.DictReader(io.StringIO(outputs[file].decode("utf-8")))
        rows = [[_value(row[c], kinds.get(c)) for c in columns] for row in reader]
        tables[name] = {"columns": list(columns), "rows": rows}
    manifest = json.loads(outputs["manifest.json"])
    document = {
        "generated_by": "scripts/build_data.py (scripts/js_calculator_data.py)",
        "licence_note": ("Every row names its source and licence; ATTRIBUTION.md below lists every dataset. "
                         "Electricity Maps (ODbL) rows are not included."),
        "tables_sha256": {f: manifest["tables"][f]["sha256"] for _, (f, _c, _k) in sorted(_TABLES.items())},
        "attribution": outputs["ATTRIBUTION.md"].decode("utf-8"),
        "tables": tables,
    }
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def package_outputs(folder: Path) -> dict[str, bytes]:
    """The generated files as the package holds them (``src/wattprint/data``)."""
    files = {file for file, _c, _k in _TABLES.values()} | {"manifest.json", "ATTRIBUTION.md"}
    return {name: (folder / name).read_bytes() for name in files}
