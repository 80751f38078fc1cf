"""The JavaScript calculator (clients/js) against Python's ``wattprint.plan``: the same embedded data (the JSON the
data build exports equals what the package's tables give now) and the same figures, to 1e-9 relative, on 150+
generated inputs, errors included."""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path
from typing import Any

from tests.js.jsenv import build, require_node, run_js
from wattprint.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
REL_TOLERANCE = 1e-9


def _export_module() -> Any:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import js_calculator_data
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return js_calculator_data


def test_exported_data_matches_the_package_tables() -> None:
    export = _export_module()
    made = export.calculator_json(export.package_outputs(REPO / "src" / "wattprint" / "data"))
    committed = export.JS_DATA.read_bytes()
    assert made == committed, ("clients/js/src/data/calculator-data.json is out of date: run "
                               "`python scripts/build_data.py` and commit it")
    tables = json.loads(committed)["tables"]
    assert {"intensity", "gpu", "cpu", "pue_wue", "equivalences"} <= set(tables)
    intensity = tables["intensity"]
    licence = intensity["columns"].index("licence")
    assert all(row[licence] for row in intensity["rows"])  # every row names its licence
    assert all(row[licence] != "ODbL-1.0" for row in intensity["rows"])  # ODbL rows stay in their own file


def _inputs(seed: int = 16) -> list[dict[str, Any]]:
    from wattprint.data import cpu_specs, gpu_specs, intensity_records, lookup_cpu, lookup_gpu

    rng = random.Random(seed)
    gpus = [s.name for s in gpu_specs() if lookup_gpu(s.name) == s]
    cpus = [s.name for s in cpu_specs() if s.cores and lookup_cpu(s.name) == s]
    cpus = rng.sample(cpus, 40) + [s.name for s in cpu_specs() if lookup_cpu(s.name) == s and s.alternatives][:5]
    cpus += [_cpu_spelling(rng, name) for name in rng.sample(cpus, 15)]
    # names as NVML or people write them: both must match them alike (or refuse them alike)
    spellings = [v for name in gpus for v in (f"NVIDIA {name}", name.upper().replace(" ", "-"), f"Tesla {name}",
                                              name.lower(), name.split()[0])]
    rows = [r for r in intensity_records() if not r.key.startswith("em:")]
    places = [r.key for r in rows] + [a for r in rows for a in r.aliases]
    assert len(gpus) > 5 and len(cpus) > 20 and len(places) > 100

    def duration() -> dict[str, float]:
        return {"hours": round(rng.uniform(0, 500), 3)} if rng.random() < 0.6 else {"duration_s": rng.uniform(0, 4e6)}

    cases: list[dict[str, Any]] = []
    for i in range(140):
        item: dict[str, Any] = duration()
        shape = i % 7
        if shape in (0, 1, 2):
            item["gpu"] = rng.choice(gpus) if rng.random() < 0.6 else rng.choice(spellings)
            item["gpu_count" if rng.random() < 0.5 else "count"] = rng.randint(1, 64)
        if shape in (1, 3, 4):
            item["cpu"] = rng.choice(cpus)
            if rng.random() < 0.4:
                item["cpu_cores"] = rng.randint(1, 128)
            elif rng.random() < 0.5:
                item["cpu_count"] = rng.randint(1, 8)
        if shape == 5:
            item["power_w"] = round(rng.uniform(1, 5000), 2)
            item["count"] = rng.randint(1, 16)
        if shape == 6:
            item["cpu_tdp_w"] = round(rng.uniform(10, 400), 1)
        if rng.random() < 0.6 or shape == 6:
            item["memory_gb"] = round(rng.uniform(0, 2048), 1)
        if shape != 5 and rng.random() < 0.5:
            key = rng.choice(("utilization", "gpu_utilization", "cpu_utilization"))
            item[key] = round(rng.random(), 3)
        r = rng.random()
        if r < 0.7:
            item["location"] = rng.choice(places)
        elif r < 0.85:
            item["intensity"] = round(rng.uniform(0, 1200), 2)
            item["intensity_uncertainty_rel"] = round(rng.uniform(0, 0.3), 3)
            if rng.random() < 0.5:
                item["location"] = rng.choice(places)
        if rng.random() < 0.2:
            item["pue"] = round(rng.uniform(1, 2), 2)
        if rng.random() < 0.15:
            item["wue"] = round(rng.uniform(0, 3), 2)
        cases.append({"kind": "estimate", "input": item})
    for _ in range(40):
        compare: dict[str, Any] = {"energy_kwh": round(rng.uniform(0, 5000), 3),
                                   "energy_uncertainty_rel": round(rng.uniform(0, 0.5), 3)}
        if rng.random() < 0.5:
            compare["providers"] = rng.sample(["gcp", "aws", "azure"], rng.randint(1, 2))
        if rng.random() < 0.7:
            compare["locations"] = rng.sample(places, rng.randint(1, 12))
        if rng.random() < 0.5:
            compare["reference"] = rng.choice(places)
        if rng.random() < 0.3:
            compare["near"] = rng.choice(places)
            compare["near_limit"] = rng.randint(0, 5)
        if rng.random() < 0.2:
            compare["pue"] = round(rng.uniform(1, 2), 2)
        cases.append({"kind": "compare", "input": compare})
    bad = [
        {"hours": 1},  # nothing to estimate
        {"gpu": rng.choice(gpus), "hours": 1, "duration_s": 5},
        {"gpu": rng.choice(gpus), "hours": 1, "utilization": 80},
        {"power_w": 100, "cpu": rng.choice(cpus), "hours": 1},
        {"gpu": rng.choice(gpus), "hours": 1, "location": "atlantis"},
        {"cpu": rng.choice(cpus), "hours": -1},
        {"gpu_count": 2, "hours": 1, "power_w": 5},
        {"cpu": rng.choice(cpus), "cpu_count": 2, "cpu_cores": 4, "hours": 1},
        {"memory_gb": 8, "hours": 1, "pue": 0.5},
    ]
    cases += [{"kind": "estimate", "input": b} for b in bad]
    cases.append({"kind": "compare", "input": {"energy_kwh": -1}})
    cases.append({"kind": "compare", "input": {"energy_kwh": 1, "providers": ["nowhere"]}})
    return cases


def _cpu_spelling(rng: random.Random, name: str) -> str:
    """A CPU name as /proc/cpuinfo, a cloud console or CodeCarbon's table would write it."""
    return rng.choice((f"Intel(R) {name} CPU @ 2.20GHz", f"{name.upper()} Processor", f"AMD {name} 64-Core Processor",
                       f"{name} (95W)", f"{name} @ 3.1GHz", f"  {name.lower()}  "))


def test_js_finds_the_hardware_python_finds(tmp_path: Path) -> None:
    """GPU and CPU names, as tables, NVML, /proc/cpuinfo and people write them, match the same rows (or none)."""
    from wattprint.data import cpu_specs, gpu_specs, lookup_cpu, lookup_gpu

    node = require_node()
    build()
    rng = random.Random(17)
    gpu_names = [v for s in gpu_specs() for v in (s.name, f"NVIDIA {s.name}", s.name.upper().replace(" ", "-"),
                                                  f"Tesla {s.name.split()[0]}", s.name.split()[0])]
    cpu_names = [s.name for s in rng.sample(list(cpu_specs()), 300)]
    cpu_names += [_cpu_spelling(rng, name) for name in cpu_names[:200]] + ["Intel(R) Xeon(R) CPU @ 2.20GHz", "", "x"]
    cases = [{"kind": "gpu", "input": n} for n in gpu_names] + [{"kind": "cpu", "input": n} for n in cpu_names]
    (tmp_path / "names.json").write_text(json.dumps(cases))
    run_js([node, "test/scripts/parity.mjs", str(tmp_path / "names.json"), str(tmp_path / "found.json")])
    found = json.loads((tmp_path / "found.json").read_text())
    matched = 0
    for case, got in zip(cases, found, strict=True):
        spec = (lookup_gpu if case["kind"] == "gpu" else lookup_cpu)(case["input"])
        want = None if spec is None else {"name": spec.name, "tdp_w": spec.tdp_w,
                                           "cores": getattr(spec, "cores", None)}
        assert got.get("result") == want, f"{case}: Python {want}, JavaScript {got}"
        matched += want is not None
    assert matched > 400


def _python(case: dict[str, Any]) -> dict[str, Any]:
    from wattprint.plan.compare import compare_regions
    from wattprint.plan.estimate import estimate

    try:
        if case["kind"] == "estimate":
            return {"result": estimate(**case["input"]).to_dict()}
        return {"result": compare_regions(**case["input"]).to_dict()}
    except ConfigError as error:
        return {"error": str(error)}


def _figures(value: Any, path: str = "") -> dict[str, float]:
    """Every number in a JSON value, by its path (booleans are not figures)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return {}
    if isinstance(value, (int, float)):
        return {path: float(value)}
    found: dict[str, float] = {}
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        found.update(_figures(item, f"{path}.{key}" if path else str(key)))
    return found


_NOT_FIGURES = {"measured", "run_id"}  # a re-priced run's own figures: not part of the calculator


def test_js_calculator_gives_pythons_figures(tmp_path: Path) -> None:
    node = require_node()
    build()
    cases = _inputs()
    expected = [_python(c) for c in cases]
    ok = [e for e in expected if "result" in e]
    assert len(ok) >= 150 and len(expected) - len(ok) >= 10
    (tmp_path / "inputs.json").write_text(json.dumps(cases))
    run_js([node, "test/scripts/parity.mjs", str(tmp_path / "inputs.json"), str(tmp_path / "out.json")])
    got = json.loads((tmp_path / "out.json").read_text())
    assert len(got) == len(cases)
    compared = 0
    for case, want, have in zip(cases, expected, got, strict=True):
        if "error" in want:
            assert "error" in have, f"{case}: Python refused it ({want['error']}), JavaScript gave a result"
            continue
        assert "result" in have, f"{case}: JavaScript refused it ({have.get('error')}); Python gave a result"
        want_figures = {k: v for k, v in _figures(want["result"]).items() if k.split(".")[0] not in _NOT_FIGURES}
        have_figures = _figures(have["result"])
        missing = sorted(set(want_figures) - set(have_figures))
        assert not missing, f"{case}: JavaScript lacks {missing[:8]}"
        for path, value in want_figures.items():
            other = have_figures[path]
            assert math.isclose(value, other, rel_tol=REL_TOLERANCE, abs_tol=1e-300), (
                f"{case}: {path} is {value!r} in Python, {other!r} in JavaScript")
            compared += 1
    assert compared > 5000
