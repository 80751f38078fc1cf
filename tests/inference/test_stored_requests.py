"""Requests stored compactly: sums per time bucket and endpoint written by the real recorder into a real SQLite
store, read back into the same figures (``run.result.inference`` beside the rebuilt ones), histograms that merge by
adding, and a day at 1,000 requests/s kept in a few thousand rows."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import set_energy, write_zone
from wattprint.api.records import STEADY_BUCKET
from wattprint.run.request_buckets import (
    HALF_BIN_REL,
    RequestBuckets,
    bin_value,
    bucket_of,
    bucket_span,
    hist_bin,
    hist_percentile,
    merge,
)
from wattprint.run.request_figures import from_intervals, percentile
from wattprint.run.requests import RequestEnergy, request_edges
from wattprint.store import open_store
from wattprint.store.requests import read_request_intervals


def rapl(root: Path) -> tuple[str, Path]:
    control = root / "powercap" / "intel-rapl"
    return str(root / "powercap"), write_zone(control, "intel-rapl:0", "package-0", 0)


def serve(tmp_path: Path) -> tuple[wattprint.Tracker, Path]:
    """A run with idle time, overlapping requests of two endpoints, tokens and first tokens, saved to a store."""
    root, package = rapl(tmp_path)
    path = tmp_path / "runs.sqlite"
    run = wattprint.Tracker(powercap_root=root, gpus=False, store=str(path), project="serving")
    energy = 0

    def add(joules: float) -> None:
        nonlocal energy
        energy += int(joules * 1e6)
        set_energy(package, energy)

    with run:
        request_edges(run, "meter")  # the counter jumps between edges: each edge reads it
        add(2)  # idle
        for i in range(6):
            a = run.request(tokens_in=10, endpoint="POST /generate").start()
            add(1 + i)
            b = run.request(items=2, endpoint="POST /images").start()
            add(3)
            a.first_token()
            add(2)
            a.tokens_out = 20 + i
            a.stop()
            add(1)
            b.stop()
            add(0.5)  # idle between rounds
        with run.request():  # no endpoint, no size
            add(4)
    assert run.wait_saved(60)
    return run, path


def test_the_stored_sums_rebuild_the_runs_figures(tmp_path: Path) -> None:
    run, path = serve(tmp_path)
    result = run.result
    assert result is not None and result.inference is not None
    live = result.inference
    assert live.whole.requests == 13
    assert live.whole.energy_j + live.idle_energy_j == pytest.approx(result.energy_j, rel=1e-9)

    store = open_store(str(path))
    try:
        rows = read_request_intervals(store, run.run_id or "")
        record = store.run(run.run_id or "")
    finally:
        store.close()
    timed = [r for r in rows if r.bucket != STEADY_BUCKET]
    assert timed and all(r.bucket >= 0 for r in timed)
    assert sum(r.requests for r in timed) == 13
    assert sum(r.energy_j for r in timed) == pytest.approx(live.whole.energy_j, rel=1e-9)
    assert sum(r.idle_energy_j for r in timed) == pytest.approx(live.idle_energy_j, rel=1e-9)
    assert {r.endpoint for r in timed} == {"", "POST /generate", "POST /images"}

    rebuilt = from_intervals(record.run_id, rows, measured_energy_j=record.energy_j, measured_s=record.duration_s)
    assert rebuilt is not None
    for name in ("requests", "tokens_in", "tokens_out", "items"):
        assert getattr(rebuilt.whole, name) == getattr(live.whole, name), name
    for name in ("energy_j", "j_per_request_mean", "j_per_output_token", "j_per_item", "j_per_prefill_token",
                 "j_per_decode_token", "wh_per_1000_requests", "time_to_first_token_s_mean"):
        assert getattr(rebuilt.whole, name) == pytest.approx(getattr(live.whole, name), rel=1e-9), name
    assert rebuilt.whole.sharing == live.whole.sharing == "mixed"
    assert rebuilt.whole.method == live.whole.method
    assert rebuilt.whole.uncertainty_rel == pytest.approx(live.whole.uncertainty_rel, rel=1e-9)
    assert rebuilt.whole.percentile_resolution_rel == HALF_BIN_REL and live.whole.percentile_resolution_rel == 0
    for q, name in ((50, "j_per_request_p50"), (95, "j_per_request_p95")):
        exact = percentile([r.energy_j for r in live.requests], q)
        assert hist_bin(getattr(rebuilt.whole, name)) == hist_bin(exact), name
    assert rebuilt.idle_energy_j == pytest.approx(live.idle_energy_j, rel=1e-9)
    assert set(rebuilt.endpoints) == set(live.endpoints) == {"POST /generate", "POST /images"}
    for name, figures in live.endpoints.items():
        assert rebuilt.endpoints[name].energy_j == pytest.approx(figures.energy_j, rel=1e-9)

    # the steady state: the same window and requests as the live result's
    assert live.window is not None and live.steady is not None
    assert rebuilt.window is not None and rebuilt.steady is not None
    assert (rebuilt.window.start_s, rebuilt.window.end_s) == (live.window.start_s, live.window.end_s)
    assert rebuilt.window.concurrency == live.window.concurrency
    assert rebuilt.steady.requests == live.steady.requests
    assert rebuilt.steady.energy_j == pytest.approx(live.steady.energy_j, rel=1e-9)


def test_the_table_holds_one_row_per_bucket_and_endpoint_and_a_save_again_changes_nothing(tmp_path: Path) -> None:
    run, path = serve(tmp_path)
    connection = sqlite3.connect(path)
    try:
        before = connection.execute("SELECT * FROM request_intervals ORDER BY bucket, endpoint").fetchall()
        keys = connection.execute("SELECT bucket, endpoint FROM request_intervals").fetchall()
    finally:
        connection.close()
    assert len(keys) == len(set(keys)) and len(keys) >= 4
    store = open_store(str(path))
    try:
        rows = read_request_intervals(store, run.run_id or "")
        store.save(store.run(run.run_id or ""), requests=rows)
    finally:
        store.close()
    connection = sqlite3.connect(path)
    try:
        after = connection.execute("SELECT * FROM request_intervals ORDER BY bucket, endpoint").fetchall()
    finally:
        connection.close()
    assert after == before
    latency = json.loads(before[0][-3])
    assert all(isinstance(b, int) and isinstance(c, int) for b, c in latency)


def test_histogram_bins_percentiles_and_buckets() -> None:
    assert hist_bin(1.0) == 0 and hist_bin(10.0) == 10 and hist_bin(0.5) == -4 and hist_bin(0.0) == -120
    assert hist_bin(math.inf) == 120 and hist_bin(1e30) == 120
    for value in (1e-6, 0.0031, 0.5, 1.0, 7.3, 42.0, 1e5):
        middle = bin_value(hist_bin(value))
        assert abs(middle / value - 1) <= HALF_BIN_REL * 1.0001 or abs(value / middle - 1) <= HALF_BIN_REL * 1.0001
    values = [0.1 * (i + 1) for i in range(101)]  # every whole percentile falls on a value
    hist: dict[int, int] = {}
    for v in values:
        hist[hist_bin(v)] = hist.get(hist_bin(v), 0) + 1
    for q in (5, 50, 95, 100):
        assert hist_bin(hist_percentile(hist.items(), q) or 0) == hist_bin(percentile(values, q))
    assert hist_percentile((), 50) is None
    assert [bucket_of(x) for x in (0.0, 9.99, 10.0, 3599.0, 3600.0, 3659.9, 86399.0, 86400.0, 87000.0)] == [
        0, 0, 1, 359, 360, 360, 360 + 1379, 1740, 1741]
    for bucket in (0, 1, 359, 360, 1739, 1740, 5000):
        start, end = bucket_span(bucket)
        assert bucket_of(start) == bucket and bucket_of((start + end) / 2) == bucket


def request(i: int, start_s: float, duration_s: float, energy_j: float, endpoint: str | None = None) -> RequestEnergy:
    return RequestEnergy(request_id=str(i), started_at=1.7e9 + start_s, start_s=start_s, duration_s=duration_s,
                         energy_j=energy_j, method="sampled", uncertainty_rel=0.1, sharing="tokens",
                         endpoint=endpoint, tokens_in=5, tokens_out=10)


def test_rows_merge_by_adding_whatever_the_buckets() -> None:
    buckets = RequestBuckets()
    requests = [request(i, i * 0.37, 0.2 + (i % 7) * 0.05, 1.0 + (i % 11), "a" if i % 3 else "b")
                for i in range(500)]
    for r in requests:
        buckets.add(r)
    rows = buckets.records(changed_only=True)
    assert buckets.records(changed_only=True) == []  # nothing changed since
    assert len(buckets.records(changed_only=False)) == len(rows)
    merged = merge(rows)
    assert merged is not None
    assert merged.requests == 500 and merged.tokens_out == 5000
    assert merged.energy_j == pytest.approx(sum(r.energy_j for r in requests), rel=1e-12)
    assert merged.uncertainty_rel == pytest.approx(0.1)
    assert sum(c for _, c in merged.energy_hist) == 500 == sum(c for _, c in merged.latency_hist)
    halves = merge([m for m in (merge(rows[: len(rows) // 2]), merge(rows[len(rows) // 2:])) if m is not None])
    assert halves is not None and halves.energy_hist == merged.energy_hist and halves.requests == 500


def test_a_day_at_1000_requests_per_second_stays_in_megabytes() -> None:
    """A day's rows (1,740 buckets of one endpoint), with histograms as wide as the traffic makes them."""
    buckets = RequestBuckets()
    for bucket in range(bucket_of(86_399.0) + 1):
        start, end = bucket_span(bucket)
        width = end - start
        # a sample of each bucket's requests stands for its 1,000 per second: every bin they can fill is filled
        for i in range(60):
            buckets.add(request(i, start + width * i / 60, 0.003 * (1 + i * 7 % 60), 0.02 * (1 + i * 13 % 60), "gen"))
    rows = buckets.records(changed_only=False)
    assert len(rows) <= 1741  # the last requests end in the next day's first bucket
    size = sum(len(json.dumps([list(p) for p in r.latency_hist])) + len(json.dumps([list(p) for p in r.energy_hist]))
               + 300 for r in rows)
    assert size < 5_000_000


def test_show_and_the_reports_have_an_inference_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wattprint.cli.main import main
    from wattprint.report.content import run_content
    from wattprint.report.html import html_report
    from wattprint.report.latex import latex_report
    from wattprint.report.markdown import markdown_report

    run, path = serve(tmp_path)
    rid = run.run_id or ""
    assert main(["show", rid, "--store", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["inference"]
    assert shown["whole"]["requests"] == 13 and shown["whole"]["method"]
    assert shown["whole"]["percentile_resolution_rel"] == pytest.approx(HALF_BIN_REL)
    assert shown["window"]["concurrency"] >= 1 and shown["steady"]["requests"] >= 1
    assert shown["idle_energy_j"] > 0 and set(shown["endpoints"]) == {"POST /generate", "POST /images"}
    assert main(["show", rid, "--store", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Inference" in text and "Steady state" in text and "per output token" in text and "Idle" in text
    assert "percentiles to a histogram bin" in text

    store = open_store(str(path))
    try:
        content = run_content(store, rid)
    finally:
        store.close()
    assert content.inference is not None and content.inference.whole.requests == 13
    markdown = markdown_report(content)
    assert "## Inference" in markdown and "J per output token" in markdown and "Steady state:" in markdown
    assert 'id="inference-table"' in html_report(content, chart=False)
    assert "Inference energy of" in latex_report(content)


def test_a_run_without_requests_has_no_inference_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wattprint.cli.main import main

    root, package = rapl(tmp_path)
    path = tmp_path / "runs.sqlite"
    with wattprint.Tracker(powercap_root=root, gpus=False, store=str(path)) as run:
        set_energy(package, 1_000_000)
    assert run.result is not None and run.result.inference is None and run.wait_saved(60)
    assert main(["show", run.run_id or "", "--store", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inference"] is None


def test_request_rows_wait_in_the_spool_and_reach_the_store_when_it_is_replayed(tmp_path: Path) -> None:
    from wattprint.store.spool import load_spool_file, replay_spool, spool_save

    run, path = serve(tmp_path)
    store = open_store(str(path))
    try:
        record = store.run(run.run_id or "")
        rows = read_request_intervals(store, record.run_id)
        components, intervals = store.components(record.run_id), store.intervals(record.run_id)
    finally:
        store.close()
    spool = tmp_path / "spool"
    half = len(rows) // 2
    spool_save(spool, record, components, intervals, [], rows[:half])
    spooled = spool_save(spool, record, components, [], [], rows[half:])  # merged by (bucket, endpoint)
    assert load_spool_file(spooled)[0] == record  # the four records as before
    other = open_store(str(tmp_path / "other.sqlite"))
    try:
        assert replay_spool(spool, other) == 1
        assert read_request_intervals(other, record.run_id) == rows
    finally:
        other.close()


def test_the_results_dict_carries_the_figures_and_not_every_request(tmp_path: Path) -> None:
    run, _ = serve(tmp_path)
    assert run.result is not None and run.result.inference is not None
    data = json.loads(json.dumps(run.result.to_dict()))
    inference = data["inference"]
    assert inference["whole"]["requests"] == 13 and inference["kept_requests"] == 13
    assert "requests" not in inference and inference["window"]["duration_s"] > 0
    assert inference["whole"]["energy_j"] == pytest.approx(run.result.inference.whole.energy_j)
