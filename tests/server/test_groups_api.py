"""Run groups on the team server: ``GET /api/v1/groups/{id}`` (the JSON of ``wattprint show GROUP --json``), who may
read it, its report, and ``wattprint show|report GROUP --server``; the group written by real trackers on two
"nodes" whose powercap counters move 25 J and 40 J."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.run_groups import write_group
from tests.fakes.server import TeamServer, sqlite_url, start_server


@dataclass
class Served:
    server: TeamServer
    store: Path
    run_ids: list[str]
    env: dict[str, str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("groups")
    store = workdir / "team.sqlite"
    run_ids = write_group(workdir, str(store))
    write_group(workdir, str(store), group_id="job-other", project="other", node_joules=(5.0,))
    env = {**os.environ, "WATTPRINT_STORE": str(store), "WATTPRINT_GPUS": "false",
           "WATTPRINT_POWERCAP_ROOT": str(workdir / "none")}
    env.pop("WATTPRINT_SERVER", None)
    env.pop("WATTPRINT_SERVER_TOKEN", None)
    with start_server(sqlite_url(store), workdir) as server:
        yield Served(server, store, run_ids, env)


def _cli(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wattprint", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def _token(served: Served, scope: str, project: str | None = None) -> str:
    made = httpx.post(f"{served.server.url}/api/v1/tokens", json={"scope": scope, "project": project},
                      headers=served.server.auth(), timeout=30)
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def test_the_group_is_the_json_of_show(served: Served) -> None:
    answer = httpx.get(f"{served.server.url}/api/v1/groups/job-7001", headers=served.server.auth(), timeout=30)
    assert answer.status_code == 200, answer.text
    group = answer.json()
    assert group["components"]["cpu"] == pytest.approx(65.0, rel=0.01)  # each node's CPU once, not once per rank
    assert [(n["node"], n["parts"]) for n in group["nodes"]] == [("0", 2), ("1", 2)]
    cpu = {d["node"]: d["energy_j"] for d in group["devices"] if d["component"] == "cpu"}
    assert cpu == {"0": pytest.approx(25.0, rel=0.01), "1": pytest.approx(40.0, rel=0.01)}
    for node in group["nodes"]:  # the node's CPU and its (modelled) RAM, each once
        assert node["energy_j"] == pytest.approx(sum(d["energy_j"] for d in group["devices"]
                                                     if d["node"] == node["node"]))
    assert [p["rank"] for p in group["parts"]] == [0, 1, 2, 3]
    assert [p["run_id"] for p in group["parts"]] == served.run_ids
    methods = {d["component"]: d["method"] for d in group["devices"]}
    assert methods["cpu"] == "counter" and methods.get("ram") == "model"
    assert group["method"] == "model" and 0 < group["energy_uncertainty_rel"] < 1  # the weakest method used
    assert group["emissions_g"] > 0 and group["emissions_uncertainty_rel"] > 0
    local = _cli(["show", "job-7001", "--json"], served.env)
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout) == group  # one definition: the store's reading is the server's


def test_the_runs_of_a_group(served: Served) -> None:
    listed = httpx.get(f"{served.server.url}/api/v1/runs", params={"group": "job-7001", "sort": "started_at"},
                       headers=served.server.auth(), timeout=30)
    assert listed.status_code == 200, listed.text
    assert sorted(r["run_id"] for r in listed.json()["items"]) == sorted(served.run_ids)
    assert {r["extra"]["group"]["group_id"] for r in listed.json()["items"]} == {"job-7001"}
    other = httpx.get(f"{served.server.url}/api/v1/runs", params={"group": "job-7001"},
                      headers=served.server.auth(_token(served, "ingest", "other")), timeout=30)
    assert other.status_code == 200 and other.json()["items"] == []  # an ingest token lists its project only


def test_who_may_read_a_group(served: Served) -> None:
    url = f"{served.server.url}/api/v1/groups/job-7001"
    mine = httpx.get(url, headers=served.server.auth(_token(served, "ingest", "cluster")), timeout=30)
    assert mine.status_code == 200 and mine.json()["project"] == "cluster"
    other = httpx.get(url, headers=served.server.auth(_token(served, "ingest", "other")), timeout=30)
    assert other.status_code == 403 and "may read project 'other' only" in other.json()["detail"]
    assert httpx.get(url, headers=served.server.auth(_token(served, "read")), timeout=30).status_code == 200
    missing = httpx.get(f"{served.server.url}/api/v1/groups/no-such-job", headers=served.server.auth(), timeout=30)
    assert missing.status_code == 404 and "no-such-job" in missing.json()["detail"]


def test_the_group_report_over_http(served: Served) -> None:
    base = f"{served.server.url}/api/v1/groups/job-7001/report"
    markdown = httpx.get(base, headers=served.server.auth(), timeout=60)
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert "## Per node" in markdown.text and "## Per rank (part)" in markdown.text
    assert served.run_ids[3][:12] in markdown.text
    saved = httpx.get(base, params={"format": "html", "download": "true"}, headers=served.server.auth(), timeout=60)
    assert saved.headers["content-disposition"] == 'attachment; filename="job-7001.html"'
    assert "<h2>Per device</h2>" in saved.text
    refused = httpx.get(base, params={"format": "model-card"}, headers=served.server.auth(), timeout=30)
    assert refused.status_code == 422 and "md, html, latex" in refused.text


def test_show_and_report_a_group_from_the_server(served: Served, tmp_path: Path) -> None:
    remote = ["--server", served.server.url, "--server-token", str(served.server.admin_token)]
    text = _cli(["show", "job-7001", *remote], served.env)
    assert text.returncode == 0, text.stderr
    assert "run group job-7001 (torchrun; 4 parts on 2 nodes)" in text.stdout and "(leader)" in text.stdout
    assert text.stdout == _cli(["show", "job-7001"], served.env).stdout  # SLURM's figure aside, the same text
    shown = json.loads(_cli(["show", "job-7001", "--json", *remote], served.env).stdout)
    assert shown["components"]["cpu"] == pytest.approx(65.0, rel=0.01)  # the counters moved 25 J and 40 J
    assert shown["energy_j"] == pytest.approx(sum(d["energy_j"] for d in shown["devices"]), rel=1e-9)
    listing = _cli(["runs", *remote], served.env)
    assert listing.returncode == 0, listing.stderr
    assert "×4 parts" in listing.stdout and "group job-7001" in listing.stdout  # the parts folded into one line
    assert listing.stdout == _cli(["runs"], served.env).stdout  # as the local store lists them
    missing = _cli(["show", "no-such-job", *remote], served.env)
    assert missing.returncode != 0 and "nor is 'no-such-job' a run group on the server" in missing.stderr
    wrote = _cli(["report", "job-7001", *remote, "-o", str(tmp_path / "group.tex")], served.env)
    assert wrote.returncode == 0, wrote.stderr
    latex = (tmp_path / "group.tex").read_text()
    assert r"\begin{tabular}" in latex and r"job-7001: per rank (part)" in latex
    local = _cli(["report", "job-7001", "-o", str(tmp_path / "group.html")], served.env)
    assert local.returncode == 0, local.stderr
    assert "HTML report of run group job-7001" in local.stderr
    page = (tmp_path / "group.html").read_text()
    assert "<h2>Per node</h2>" in page and "data:image/png;base64," in page  # the per-node chart
    card = _cli(["report", "job-7001", "--format", "model-card"], served.env)
    assert card.returncode != 0 and "--format md, html or latex" in card.stderr


def test_ranks_pushed_to_a_server_on_postgresql(team_server_pg: TeamServer, tmp_path: Path) -> None:
    """The parts reach the server as a job's ranks send them (``wattprint push`` from the ranks' store); the server
    sums them in PostgreSQL (the group id index's SQL of that database) as the local store does."""
    store = tmp_path / "ranks.sqlite"
    run_ids = write_group(tmp_path, str(store))
    env = {**os.environ, "WATTPRINT_STORE": str(store), "WATTPRINT_GPUS": "false"}
    remote = ["--server", team_server_pg.url, "--server-token", str(team_server_pg.admin_token)]
    pushed = _cli(["push", *remote], env)
    assert pushed.returncode == 0, pushed.stderr
    group = httpx.get(f"{team_server_pg.url}/api/v1/groups/job-7001", headers=team_server_pg.auth(), timeout=30)
    assert group.status_code == 200, group.text
    assert group.json() == json.loads(_cli(["show", "job-7001", "--json"], env).stdout)
    assert [p["run_id"] for p in group.json()["parts"]] == run_ids
    listed = httpx.get(f"{team_server_pg.url}/api/v1/runs", params={"group": "job-7001"},
                       headers=team_server_pg.auth(), timeout=30).json()["items"]
    assert sorted(r["run_id"] for r in listed) == sorted(run_ids)
