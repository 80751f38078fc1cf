"""Sending runs to a team server: the real server on 127.0.0.1 (tests/fakes/server.py), a real SQLite store as the
outbox, real tracked runs. A run reaches the server whole; with the server down it stays local and queued, and is
sent once (never twice) by ``wattprint push`` or the next run's writer; a server restarted mid-push loses nothing;
a refused token is said once and the run stays local; ``runs``/``show --server`` print what they print from a
store."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import wattprint
from tests.fakes.pg import make_components, make_intervals, make_run, make_tasks, run_id
from tests.fakes.server import TeamServer
from tests.fakes.wait import wait_for
from wattprint.cli.main import main
from wattprint.client import ServerClient, push
from wattprint.sinks import recorder
from wattprint.store import open_store, outbox


def new_token(server: TeamServer, scope: str, project: str | None = None) -> str:
    """A token made by the server's admin API."""
    body = {"scope": scope, **({"project": project} if project else {})}
    answer = httpx.post(server.url + "/api/v1/tokens", json=body, headers=server.auth(), timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def track(store: str, server: TeamServer, no_rapl: str, *, project: str = "mnist", token: str | None = None,
          epochs: int = 3) -> Any:
    """A real tracked run with ``server`` set, its epochs as tasks; returns the tracker once everything is written."""
    with wattprint.Tracker(store=store, server=server.url, server_token=token, project=project, gpus=False,
                           powercap_root=no_rapl, flush_interval_s=0.1) as run:
        for epoch in range(epochs):
            with run.task(f"epoch-{epoch}"):
                time.sleep(0.12)
    assert run.wait_saved(timeout=30)
    writer = recorder.current_writer()
    assert writer is None or writer.wait_idle(timeout=30)  # the sinks are written by the same thread, after the store
    return run


def assert_on_server(server: TeamServer, store: str, rid: str) -> None:
    """The server holds the run exactly as the local store does: its state, totals, every interval and task."""
    with ServerClient(server.url, server.admin_token) as client:
        there = client.run(rid)
    with open_store(store) as local:
        assert there.run == local.run(rid)
        assert list(there.components) == local.components(rid)
        assert list(there.intervals) == local.intervals(rid)
        assert list(there.tasks) == local.tasks(rid)


def server_runs(server: TeamServer, **filters: Any) -> list[str]:
    with ServerClient(server.url, server.admin_token) as client:
        return [run.run_id for run in client.runs(limit=None, **filters)]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_tracked_run_reaches_the_server_whole(tmp_path: Path, team_server: TeamServer, no_rapl: str) -> None:
    store = str(tmp_path / "runs.sqlite")
    token = new_token(team_server, "ingest", "mnist")
    run = track(store, team_server, no_rapl, token=token)
    rid = run.run_id
    assert_on_server(team_server, store, rid)
    with ServerClient(team_server.url, token) as client:
        there = client.run(rid)
    assert there.run.status == "finished" and there.run.energy_j == pytest.approx(run.result.energy_j)
    assert [task.name for task in there.tasks] == ["epoch-0", "epoch-1", "epoch-2"]
    assert there.intervals and {i.component for i in there.intervals} == {"cpu", "ram"}
    with open_store(store) as local:  # the outbox says the server has this state of the run
        assert outbox.acknowledged(local, team_server.url) == {rid: local.run(rid).updated_at}
        assert outbox.unsent(local, team_server.url) == []


def test_with_the_server_down_a_run_stays_local_and_push_sends_it_once(
    tmp_path: Path, team_server: TeamServer, no_rapl: str, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="wattprint")
    store = str(tmp_path / "runs.sqlite")
    team_server.stop()
    started = time.monotonic()
    run = track(store, team_server, no_rapl)
    assert time.monotonic() - started < 20  # not stuck on the network (a generous bound, not a timing claim)
    rid = run.run_id
    with open_store(store) as local:
        assert local.run(rid).status == "finished" and len(local.tasks(rid)) == 3
        assert outbox.unsent(local, team_server.url, queued_only=True) == [(rid, local.run(rid).updated_at)]
    down = [r.getMessage() for r in caplog.records if "cannot be sent to the team server" in r.getMessage()]
    assert len(down) == 1 and "wattprint push" in down[0]

    team_server.start()
    code, out, err = cli(capsys, "push", "--store", store, "--server", team_server.url)
    assert code == 0, err
    assert out.startswith(f"sent 1 run to {team_server.url}")
    assert_on_server(team_server, store, rid)
    code, out, _ = cli(capsys, "push", "--store", store, "--server", team_server.url, "--json")
    assert code == 0 and json.loads(out)["sent"] == 0 and json.loads(out)["left"] == 0
    assert server_runs(team_server) == [rid]  # once


NEXT_RUN = """
import sys, time, wattprint
with wattprint.track(project="mnist", flush_interval_s=0.1) as run:
    with run.task("epoch-0"):
        time.sleep(0.1)
print(run.run_id)
"""


def test_the_next_runs_writer_sends_what_an_earlier_run_left_queued(
    tmp_path: Path, team_server: TeamServer, no_rapl: str
) -> None:
    store = str(tmp_path / "runs.sqlite")
    team_server.stop()
    earlier = track(store, team_server, no_rapl).run_id
    team_server.start()
    env = dict(os.environ, WATTPRINT_STORE=store, WATTPRINT_SERVER=team_server.url, WATTPRINT_GPUS="false",
               WATTPRINT_POWERCAP_ROOT=no_rapl)
    done = subprocess.run([sys.executable, "-c", NEXT_RUN], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    later = done.stdout.strip()
    assert sorted(server_runs(team_server)) == sorted([earlier, later])
    assert_on_server(team_server, store, earlier)
    assert_on_server(team_server, store, later)
    with open_store(store) as local:
        assert outbox.unsent(local, team_server.url) == []


def test_a_server_restarted_mid_push_loses_nothing(tmp_path: Path, team_server: TeamServer) -> None:
    store_url = str(tmp_path / "runs.sqlite")
    ids = [run_id(7, i) for i in range(120)]
    with open_store(store_url) as store:
        store.save_many((make_run(rid, project="imported" if i % 3 else "mnist", started_at=1_760_000_000.0 + i),
                         make_components(), make_intervals(4), make_tasks(2)) for i, rid in enumerate(ids))
    restarts: list[threading.Thread] = []
    failures: list[BaseException] = []

    def restart_once(result: Any) -> None:
        def restart() -> None:
            try:
                team_server.restart(kill=True)  # killed while requests are in flight
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                failures.append(error)

        if not restarts:
            restarts.append(threading.Thread(target=restart))
            restarts[0].start()

    with open_store(store_url) as store, ServerClient(team_server.url) as client:
        result = push(store, client, on_sent=restart_once, retry_for_s=180.0)
        for thread in restarts:
            thread.join(120)
        assert not failures
        assert restarts and result.ok, result.error
        assert outbox.unsent(store, team_server.url) == []
    assert sorted(server_runs(team_server)) == sorted(ids)
    for rid in (ids[0], ids[60], ids[-1]):
        assert_on_server(team_server, store_url, rid)
    with ServerClient(team_server.url) as client:
        assert all(len(client.run(rid).intervals) == 12 for rid in ids[::10])


def test_a_wrong_project_or_revoked_token_is_said_once_and_the_run_stays_local(
    tmp_path: Path, team_server: TeamServer, no_rapl: str, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="wattprint")
    store = str(tmp_path / "runs.sqlite")
    alpha = new_token(team_server, "ingest", "alpha")
    run = track(store, team_server, no_rapl, project="beta", token=alpha)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1, refusals  # once, however many payloads the run had
    assert "403" in refusals[0] and "--scope ingest --project" in refusals[0]
    with open_store(store) as local:
        assert [rid for rid, _ in outbox.unsent(local, team_server.url, queued_only=True)] == [run.run_id]
    assert server_runs(team_server) == []

    code, out, _ = cli(capsys, "push", "--store", store, "--server", team_server.url, "--server-token", alpha)
    assert code == 1 and "refused" in out and "403" in out and "1 run(s) still unsent" in out

    beta = new_token(team_server, "ingest", "beta")
    token_id = beta.split("_")[1]
    revoked = httpx.delete(f"{team_server.url}/api/v1/tokens/{token_id}", headers=team_server.auth(), timeout=10)
    assert revoked.status_code == 200
    caplog.clear()
    second = track(store, team_server, no_rapl, project="beta", token=beta)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and "401" in refusals[0] and "server_token" in refusals[0]
    code, out, err = cli(capsys, "push", "--store", store, "--server", team_server.url, "--server-token", beta)
    assert code == 1 and "401" in out and "stopped" in out

    good = new_token(team_server, "ingest", "beta")  # fixed: the runs go, each once
    code, out, err = cli(capsys, "push", "--store", store, "--server", team_server.url, "--server-token", good)
    assert code == 0, out + err
    assert sorted(server_runs(team_server)) == sorted([run.run_id, second.run_id])


def test_runs_and_show_print_the_same_from_a_server_as_from_the_store(
    tmp_path: Path, team_server: TeamServer, no_rapl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "runs.sqlite")
    first = track(store, team_server, no_rapl, project="mnist").run_id
    track(store, team_server, no_rapl, project="cifar", epochs=1)
    server = ("--server", team_server.url, "--server-token", str(team_server.admin_token))
    for command in (["runs"], ["runs", "--json"], ["runs", "--project", "mnist"], ["show", "last"],
                    ["show", first[:20]], ["show", first, "--json"]):
        from_store = cli(capsys, *command, "--store", store)
        from_server = cli(capsys, *command, *server)
        assert from_store[0] == 0 and from_store[1], (command, from_store)
        assert from_server == from_store, command
    code, _, err = cli(capsys, "show", "ffff0000", *server)
    assert code == 1 and "no run matches 'ffff0000'" in err and f"on the server {team_server.url}" in err


CODECARBON = """
import time
from codecarbon import OfflineEmissionsTracker

tracker = OfflineEmissionsTracker(country_iso_code="FRA", output_dir={out!r}, save_to_file=True, log_level="error",
                                  measure_power_secs=0.3, allow_multiple_runs=True, project_name="cc-project")
tracker.start()
end = time.perf_counter() + 0.5
while time.perf_counter() < end:
    sum(range(1000))
tracker.stop()
"""
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}


def test_push_sends_runs_imported_from_codecarbon(
    tmp_path: Path, team_server: TeamServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("codecarbon")
    out = tmp_path / "codecarbon"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")} | OFFLINE
    done = subprocess.run([sys.executable, "-c", CODECARBON.format(out=str(out))], cwd=out, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    store = str(tmp_path / "runs.sqlite")
    code, _, err = cli(capsys, "import", "codecarbon", str(out / "emissions.csv"), "--store", store)
    assert code == 0, err
    with open_store(store) as local:
        [imported] = local.runs()
    code, out_text, err = cli(capsys, "push", "--store", store, "--server", team_server.url, "--project",
                              "cc-project")
    assert code == 0 and out_text.startswith("sent 1 run"), out_text + err
    assert_on_server(team_server, store, imported.run_id)
    with ServerClient(team_server.url) as client:
        there = client.run(imported.run_id)
    assert there.run.project == "cc-project" and {c.method for c in there.components} == {"imported"}


def test_wattprint_run_sends_its_run_with_the_server_setting_from_the_environment(
    tmp_path: Path, team_server: TeamServer, no_rapl: str
) -> None:
    store = str(tmp_path / "runs.sqlite")
    token = new_token(team_server, "ingest", "cli-project")
    env = dict(os.environ, WATTPRINT_STORE=store, WATTPRINT_SERVER=team_server.url, WATTPRINT_SERVER_TOKEN=token,
               WATTPRINT_GPUS="false", WATTPRINT_POWERCAP_ROOT=no_rapl, WATTPRINT_PROJECT="cli-project")
    done = subprocess.run([sys.executable, "-m", "wattprint", "run", "--json", "--", sys.executable, "-c",
                           "import time; time.sleep(0.3)"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rid = json.loads(done.stdout)["run_id"]
    assert token not in done.stdout + done.stderr  # never printed
    assert server_runs(team_server) == [rid]
    assert_on_server(team_server, store, rid)
    with ServerClient(team_server.url, token) as client:
        assert client.run(rid).run.command is not None and "time.sleep" in str(client.run(rid).run.command)


def test_a_process_sends_again_once_the_server_is_back_and_catches_up_on_its_earlier_run(
    tmp_path: Path, team_server: TeamServer, no_rapl: str
) -> None:
    store = str(tmp_path / "runs.sqlite")
    team_server.stop()
    first = track(store, team_server, no_rapl).run_id  # the process's server sink now backs off
    team_server.start()
    with wattprint.Tracker(store=store, server=team_server.url, project="mnist", gpus=False, powercap_root=no_rapl,
                           flush_interval_s=0.1) as run:
        wait_for(lambda: sorted(server_runs(team_server)) == sorted([first, run.run_id]),
                 "the running run and the earlier one on the server", timeout=90)
    assert run.wait_saved(timeout=30)
    writer = recorder.current_writer()
    assert writer is None or writer.wait_idle(timeout=30)
    for rid in (first, run.run_id):
        assert_on_server(team_server, store, rid)
    with open_store(store) as local:
        assert outbox.unsent(local, team_server.url) == []


def test_eight_clients_sending_at_once(tmp_path: Path, team_server: TeamServer, no_rapl: str) -> None:
    stores = [str(tmp_path / f"client-{i}.sqlite") for i in range(8)]
    base = dict(os.environ, WATTPRINT_SERVER=team_server.url, WATTPRINT_GPUS="false", WATTPRINT_POWERCAP_ROOT=no_rapl)
    clients = [subprocess.Popen([sys.executable, "-c", NEXT_RUN], env=dict(base, WATTPRINT_STORE=store),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for store in stores]
    ids = []
    for client in clients:
        out, err = client.communicate(timeout=180)
        assert client.returncode == 0, err
        ids.append(out.strip())
    assert sorted(server_runs(team_server)) == sorted(ids)
    for store, rid in zip(stores, ids, strict=True):
        assert_on_server(team_server, store, rid)


def test_push_without_a_server_says_how_to_name_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "push", "--store", str(tmp_path / "runs.sqlite"))
    assert code == 1 and not out
    assert "no team server is named: give --server URL, or set server (WATTPRINT_SERVER" in err
    code, _, err = cli(capsys, "push", "--server", "team:8000")
    assert code == 1 and "server = 'team:8000'" in err and "must be an 'http://' or 'https://' URL" in err


def test_a_hung_server_delays_a_process_exit_by_one_bounded_send_and_the_run_waits_in_the_store(
    tmp_path: Path, team_server: TeamServer, no_rapl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "runs.sqlite")
    env = dict(os.environ, WATTPRINT_STORE=store, WATTPRINT_SERVER=team_server.url, WATTPRINT_GPUS="false",
               WATTPRINT_POWERCAP_ROOT=no_rapl)
    assert team_server.process is not None
    os.kill(team_server.process.pid, signal.SIGSTOP)  # connections are accepted, never answered
    try:
        done = subprocess.run([sys.executable, "-c", NEXT_RUN], env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        os.kill(team_server.process.pid, signal.SIGCONT)
    assert done.returncode == 0, done.stderr
    assert "kept in the local spool" not in done.stderr  # the store had its final save within the exit drain
    rid = done.stdout.strip()
    with open_store(store) as local:
        assert local.run(rid).status == "finished"
        assert [r for r, _ in outbox.unsent(local, team_server.url, queued_only=True)] == [rid]
    code, out, err = cli(capsys, "push", "--store", store, "--server", team_server.url)
    assert code == 0 and out.startswith("sent 1 run"), out + err
    assert_on_server(team_server, store, rid)
