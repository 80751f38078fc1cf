"""CodeCarbon interop of the JavaScript client: an ``emissions.csv`` written by the real CodeCarbon (run briefly,
offline) read by JavaScript into the same records as Python's importer (run ids, components, carbon fields); a bad
file refused with the line and field named; and CodeCarbon's API shape spoken to the real server."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.peers import CODECARBON, produce
from tests.fakes.server import TeamServer
from tests.js.jsenv import build, require_node, run_js
from wattprint.api.codec import to_dict
from wattprint.importers import read_runs


@pytest.fixture(scope="module")
def emissions_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codecarbon-js")
    produce(CODECARBON, out)
    return out / "emissions.csv"


def _read_js(node: str, path: Path, tmp_path: Path) -> Any:
    out = tmp_path / "js.json"
    run_js([node, "test/scripts/codecarbon.mjs", str(path), str(out)])
    return json.loads(out.read_text())


def _close(a: Any, b: Any, where: str) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_js_reads_codecarbon_as_python_does(emissions_csv: Path, tmp_path: Path) -> None:
    node = require_node()
    build()
    runs = [to_dict(r.run) | {"components": [to_dict(c) for c in r.components]}
            for r in read_runs("codecarbon", emissions_csv)]
    documents = _read_js(node, emissions_csv, tmp_path)
    assert isinstance(documents, list) and len(documents) == len(runs) == 2
    by_id = {d["run"]["run_id"]: d for d in documents}
    for want in runs:
        got = by_id[want["run_id"]]  # the same stable run id: either import updates the same run
        for key in ("project", "name", "status", "started_at", "ended_at", "duration_s", "energy_j",
                    "energy_uncertainty_rel", "attribution", "location", "how_located", "intensity_g_per_kwh",
                    "intensity_zone", "intensity_source", "intensity_year", "intensity_uncertainty_rel", "pue",
                    "facility_energy_j", "emissions_g", "emissions_uncertainty_rel", "water_l", "hardware"):
            _close(got["run"][key], want[key], key)
        for key in ("imported_from", "source_run_id", "rows_of_run", "line", "source_fields"):
            assert got["run"]["extra"][key] == want["extra"][key], key
        assert len(got["components"]) == len(want["components"])
        for mine, theirs in zip(got["components"], want["components"], strict=True):
            for key in theirs:
                _close(mine[key], theirs[key], f"components.{key}")
    assert {d["run"]["location"] for d in documents} == {"FR", "US-CA"}


def test_js_refuses_a_bad_codecarbon_file(emissions_csv: Path, tmp_path: Path) -> None:
    node = require_node()
    build()
    lines = emissions_csv.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[2].split(",")
    fields[header.index("cpu_energy")] = "-1"
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([lines[0], lines[1], ",".join(fields), *lines[3:]]) + "\n")
    got = _read_js(node, broken, tmp_path)
    assert got["name"] == "ImportFormatError"
    assert "line 3, cpu_energy: -1 is below 0" in got["error"]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert "not a CodeCarbon emissions.csv" in _read_js(node, tmp_path / "other.csv", tmp_path)["error"]




def test_js_speaks_codecarbons_api_to_the_server(team_server: TeamServer, tmp_path: Path) -> None:
    import httpx

    node = require_node()
    build()
    out = json.loads(run_js([node, "test/scripts/cc_api.mjs", team_server.url, team_server.admin_token or ""])
                     .strip().splitlines()[-1])
    assert out["refused"] == 401
    doc = httpx.get(f"{team_server.url}/api/v1/runs/{out['run']}", headers=team_server.auth(), timeout=30).json()
    assert doc["run"]["project"] == "cc-js"
    assert math.isclose(doc["run"]["energy_j"], 2 * 0.0015 * 3.6e6, rel_tol=1e-9)
    assert doc["run"]["extra"]["imported_from"] == "codecarbon"
