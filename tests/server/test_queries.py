"""Reading a team's runs from the real server (SQLite and PostgreSQL): filters (hostile strings included), keyset
pages that hold every run once, project totals and summaries computed in SQL and checked against Python's."""

from __future__ import annotations

import datetime
from collections import defaultdict
from urllib.parse import quote, urlencode

import httpx
import pytest

from tests.fakes.pg import count, make_run, run_id
from tests.fakes.server import TeamServer
from wattprint.store import open_store

HOSTILE = "'; DROP TABLE runs; --"
UNICODE = "プロジェクト ü/α \"x\" %_"
PROJECTS = ("p0", "p1", HOSTILE, UNICODE)
USERS = ("ana", "o'brien \"bob\"", "ünïcode")
HARDWARE = (
    ({"component": "gpu", "device": "gpu:0", "model": "NVIDIA H100"},
     {"component": "gpu", "device": "gpu:1", "model": "NVIDIA H100"},
     {"component": "cpu", "device": "cpu", "model": "AMD EPYC 9654"}),
    ({"component": "cpu", "device": "cpu", "model": "AMD EPYC 9654"},),
    ({"component": "gpu", "device": "gpu:0", "model": "NVIDIA A100"}, {"component": "cpu", "device": "cpu",
                                                                      "model": None}),
    (),
)
HARDWARE_KEYS = ("2 x NVIDIA H100", "AMD EPYC 9654", "NVIDIA A100", "unknown")
DAY = 86_400.0
T0 = 1_760_000_000.0  # 2025-10-09, a Thursday


def seed(url: str) -> list:
    """60 runs over about 70 days; some start at the same instant, so pages must break ties."""
    runs = []
    for i in range(60):
        started = T0 + (i // 2) * 2.3 * DAY + (i % 5) * 3600.0  # pairs share a day, a few share an instant
        if i in (10, 11, 12):
            started = T0 + 5 * DAY
        runs.append(make_run(
            run_id(i % 7, i, salt=i * 17),
            project=PROJECTS[i % len(PROJECTS)] if i % 11 else None,
            username=USERS[i % len(USERS)],
            hostname=f"node-{i % 4}",
            status=("finished", "failed", "killed")[i % 3],
            started_at=started,
            updated_at=started + 100 + i,
            ended_at=started + 100 + i,
            duration_s=100.0 + 37 * (i % 9),
            energy_j=1000.0 * (1 + (i * 7) % 13),
            emissions_g=None if i % 6 == 0 else 0.5 * i,
            energy_uncertainty_rel=0.02 + 0.01 * (i % 5),
            emissions_uncertainty_rel=None if i % 6 == 0 else 0.1 + 0.02 * (i % 4),
            location=("FR", "DE", None)[i % 3],
            hardware=HARDWARE[i % len(HARDWARE)],
        ))
    store = open_store(url)
    try:
        for run in runs:
            store.save(run)
    finally:
        store.close()
    return runs


def get(server: TeamServer, path: str, **params: object) -> httpx.Response:
    query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
    return httpx.get(f"{server.url}{path}?{query}", headers=server.auth(), timeout=30)


def all_pages(server: TeamServer, **params: object) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    cursor = None
    while True:
        answer = get(server, "/api/v1/runs", cursor=cursor, **params)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        ids += [item["run_id"] for item in data["items"]]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            return ids, pages
        assert pages < 100


def expected_order(runs: list, sort: str) -> list[str]:
    name = sort.lstrip("-")
    return [r.run_id for r in sorted(runs, key=lambda r: (getattr(r, name), r.run_id), reverse=sort.startswith("-"))]


def check_pages(server: TeamServer, runs: list) -> None:
    for sort in ("-started_at", "started_at", "energy_j", "-duration_s", "updated_at"):
        ids, pages = all_pages(server, sort=sort, limit=7)
        assert ids == expected_order(runs, sort), sort  # every run once, in order, ties broken by run id
        assert pages == -(-len(runs) // 7)
    ids, _ = all_pages(server, limit=1000)
    assert ids == expected_order(runs, "-started_at")
    # a page boundary inside runs sharing an instant (10, 11, 12) loses none of them
    ids, _ = all_pages(server, sort="started_at", limit=2, since=T0 + 4 * DAY, until=T0 + 6 * DAY)
    assert set(ids) >= {runs[10].run_id, runs[11].run_id, runs[12].run_id}
    assert len(ids) == len(set(ids))


def check_filters(server: TeamServer, runs: list) -> None:
    def ids_for(**params: object) -> list[str]:
        found, _ = all_pages(server, limit=13, **params)
        return sorted(found)

    def expect(predicate) -> list[str]:  # noqa: ANN001
        return sorted(r.run_id for r in runs if predicate(r))

    for project in PROJECTS:
        assert ids_for(project=project) == expect(lambda r, p=project: r.project == p), project
        assert ids_for(project=project) != []
    for user in USERS:
        assert ids_for(user=user) == expect(lambda r, u=user: r.username == u)
    assert ids_for(host="node-2") == expect(lambda r: r.hostname == "node-2")
    assert ids_for(status="failed") == expect(lambda r: r.status == "failed")
    for hostile in ("%", "_", "p%", "' OR '1'='1", "p0'--", "ü", "p0 ", "P0"):
        assert ids_for(project=hostile) == [], hostile
        assert ids_for(user=hostile) == []
    since, until = T0 + 10 * DAY, T0 + 30 * DAY
    expected = expect(lambda r: since <= r.started_at < until)
    assert ids_for(since=since, until=until) == expected
    iso = {t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
           for t in (since, until)}
    assert ids_for(since=iso[since], until=iso[until]) == expected
    assert ids_for(project=HOSTILE, user=USERS[1], status="killed") == expect(
        lambda r: r.project == HOSTILE and r.username == USERS[1] and r.status == "killed")
    # the tables are all still there
    store = open_store(server.store_url)
    try:
        assert count(store, "SELECT count(*) FROM runs") == len(runs)
    finally:
        store.close()


def _totals(group: list) -> dict[str, object]:
    energy = sum(r.energy_j for r in group)
    duration = sum(r.duration_s for r in group)
    emissions = [r.emissions_g for r in group if r.emissions_g is not None]
    priced = [r for r in group if r.emissions_g is not None]
    # each total's ± is its runs' relative uncertainties weighted by their energy (emissions)
    energy_rel = sum(r.energy_j * r.energy_uncertainty_rel for r in group) / energy
    emissions_rel = (sum(r.emissions_g * r.emissions_uncertainty_rel for r in priced) / sum(emissions)
                     if emissions and sum(emissions) > 0 else (0.0 if emissions else None))
    return {"runs": len(group), "energy_j": pytest.approx(energy), "duration_s": pytest.approx(duration),
            "emissions_g": pytest.approx(sum(emissions)) if emissions else None,
            "avg_power_w": pytest.approx(energy / duration), "energy_uncertainty_rel": pytest.approx(energy_rel),
            "emissions_uncertainty_rel": None if emissions_rel is None else pytest.approx(emissions_rel)}


def check_projects(server: TeamServer, runs: list) -> None:
    items = get(server, "/api/v1/projects").json()["items"]
    assert [p["name"] for p in items] == sorted(PROJECTS)
    for item in items:
        group = [r for r in runs if r.project == item["name"]]
        assert {k: item[k] for k in _totals(group)} == _totals(group)
        assert item["first_started_at"] == min(r.started_at for r in group)
        assert item["last_started_at"] == max(r.started_at for r in group)
        # the mean power is total energy over total time, not the mean of each run's power
        unweighted = sum(r.energy_j / r.duration_s for r in group) / len(group)
        assert item["avg_power_w"] != pytest.approx(unweighted)

    def key(run, by: str) -> object:  # noqa: ANN001
        date = datetime.datetime.fromtimestamp(run.started_at, datetime.timezone.utc).date()
        if by == "day":
            return date.isoformat()
        if by == "week":
            return f"{date.isocalendar()[0]}-W{date.isocalendar()[1]:02d}"
        if by == "month":
            return f"{date.year}-{date.month:02d}"
        if by == "hardware":
            return HARDWARE_KEYS[HARDWARE.index(run.hardware)]
        return {"user": run.username, "host": run.hostname, "location": run.location}[by]

    for project in (HOSTILE, UNICODE):
        for by in ("day", "week", "month", "user", "host", "location", "hardware"):
            answer = get(server, f"/api/v1/projects/{quote(project, safe='')}/summary", by=by)
            assert answer.status_code == 200, answer.text
            data = answer.json()
            assert (data["project"], data["by"]) == (project, by)
            groups: dict[object, list] = defaultdict(list)
            for run in runs:
                if run.project == project:
                    groups[key(run, by)].append(run)
            got = {g["key"]: g for g in data["groups"]}
            assert set(got) == set(groups), by
            for name, group in groups.items():
                assert {k: got[name][k] for k in _totals(group)} == _totals(group), (by, name)
            if by in ("day", "week", "month"):
                assert [g["key"] for g in data["groups"]] == sorted(groups)
            else:
                energies = [g["energy_j"] for g in data["groups"]]
                assert energies == sorted(energies, reverse=True)


def check_bad_queries(server: TeamServer, runs: list) -> None:
    for params, field in (({"limit": 0}, "query.limit"), ({"limit": "many"}, "query.limit"),
                          ({"status": "done"}, "query.status"), ({"since": "yesterday"}, "query.since"),
                          ({"cursor": "garbage!"}, "query.cursor"), ({"sort": "name"}, "query.sort"),
                          ({"project": "p\u00000"}, "query.project"), ({"user": "\u0000"}, "query.user")):
        answer = get(server, "/api/v1/runs", **params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
    # a cursor of one sort is not taken for another
    cursor = get(server, "/api/v1/runs", limit=2).json()["next_cursor"]
    answer = get(server, "/api/v1/runs", limit=2, sort="energy_j", cursor=cursor)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.cursor"
    answer = get(server, "/api/v1/projects/p0/summary", by="year")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.by"
    answer = get(server, "/api/v1/projects/p9/summary")
    assert answer.status_code == 404 and "p0" in answer.json()["detail"]
    answer = get(server, f"/api/v1/runs/{'f' * 32}")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    answer = get(server, "/api/v1/nowhere")
    assert answer.status_code == 404 and "/api/v1" in answer.json()["detail"]


CHECKS = [check_pages, check_filters, check_projects, check_bad_queries]


@pytest.mark.parametrize("check", CHECKS)
def test_sqlite(team_server: TeamServer, check) -> None:
    check(team_server, seed(team_server.store_url))


@pytest.mark.parametrize("check", CHECKS)
def test_postgres(team_server_pg: TeamServer, check) -> None:
    check(team_server_pg, seed(team_server_pg.store_url))
