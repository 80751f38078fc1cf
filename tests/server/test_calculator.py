"""The calculator over HTTP gives what the library gives: an estimate, regions compared, a run re-priced, the
region list; a keyword it does not take, or a value it cannot use, is a 422 naming it."""

from __future__ import annotations

import json

import httpx

from tests.fakes.pg import make_components, make_run, run_id
from tests.fakes.server import TeamServer
from wattprint.plan.compare import compare_estimate, compare_regions
from wattprint.plan.estimate import estimate, estimate_run
from wattprint.report.regions import list_regions, region_dict
from wattprint.store import open_store


def same(answer: httpx.Response, expected: dict) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(json.dumps(expected))


def test_the_calculator_is_the_library(team_server: TeamServer) -> None:
    url = team_server.url + "/api/v1"
    job = {"gpu": "A100 SXM4 80GB", "count": 4, "hours": 12, "location": "FR", "pue": 1.2}
    same(httpx.post(f"{url}/estimate", json=job, timeout=30), estimate(**job).to_dict())
    same(httpx.post(f"{url}/compare-regions", json={"energy_kwh": 120, "locations": ["FR", "DE", "PL"]}, timeout=30),
         compare_regions(120, locations=["FR", "DE", "PL"]).to_dict())
    same(httpx.post(f"{url}/compare-regions", json={"estimate": job, "providers": ["gcp"]}, timeout=30),
         compare_estimate(estimate(**job), providers=["gcp"]).to_dict())
    same(httpx.get(f"{url}/regions", params={"q": "france", "limit": 5}, timeout=30),
         {"items": [region_dict(r) for r in list_regions("france", limit=5)]})
    run = make_run(run_id(8, 1), location="DE")
    store = open_store(team_server.store_url)
    try:
        store.save(run, make_components())
    finally:
        store.close()
    same(httpx.get(f"{url}/runs/{run.run_id}/reprice", params=[("location", "FR"), ("location", "SE")], timeout=30),
         compare_estimate(estimate_run(run, make_components()), locations=["FR", "SE"]).to_dict())


def test_a_bad_keyword_or_value_is_named(team_server: TeamServer) -> None:
    url = team_server.url + "/api/v1"
    answer = httpx.post(f"{url}/estimate", json={"gpus": "A100 SXM4 80GB", "hours": 1}, timeout=30)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    error = answer.json()["errors"][0]
    assert error["field"] == "gpus" and "did you mean 'gpu'" in error["message"]
    answer = httpx.post(f"{url}/estimate", json={"gpu": "A100", "hours": 1}, timeout=30)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "gpu"
    assert "A100 SXM4 80GB" in answer.json()["detail"]  # the close names, to pick one
    answer = httpx.post(f"{url}/compare-regions", json={"energy_kwh": -1}, timeout=30)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "energy_kwh"
    answer = httpx.post(f"{url}/compare-regions", json=[1, 2], timeout=30)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "(body)"
    run = make_run(run_id(8, 2))
    store = open_store(team_server.store_url)
    try:
        store.save(run, make_components())
    finally:
        store.close()
    answer = httpx.get(f"{url}/runs/{run.run_id}/reprice", params={"location": "Atlantis"}, timeout=30)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.location"
