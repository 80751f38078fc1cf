"""Request edges that record only a time: the energy between two meter readings is placed linearly in time, the
shares still add up to what the counters measured, the uncertainty says what interpolation cannot know, and an
edge reads the meter only when a reading is due (or when the request asks for exact edges)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import set_energy, write_zone
from wattprint.inference import summarize
from wattprint.measure.meter import Meter, Snapshot, Subscription
from wattprint.run.requests import INTERPOLATION_SPREAD_REL, Request, request_edges, request_log

PACKAGE_UNCERTAINTY = 0.05
"""The RAPL package counter's own relative uncertainty."""


def package_tree(root: Path) -> tuple[str, Path]:
    """A package counter that the test moves, and a DRAM counter that stays still (so nothing is modelled)."""
    control = root / "powercap" / "intel-rapl"
    package = write_zone(control, "intel-rapl:0", "package-0", 0)
    write_zone(control, "intel-rapl:0:0", "dram", 0, parent=package)
    return str(root / "powercap"), package


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_edges_between_two_readings_share_the_counters_delta_linearly_in_time(tmp_path: Path) -> None:
    root, package = package_tree(tmp_path)
    # interval_s of an hour: the meter is read only at the start, when figures are asked for, and at the stop
    with wattprint.Tracker(powercap_root=root, gpus=False, store="off", interval_s=3600) as run:
        busy(0.002)
        a = run.request(tokens_out=40).start()
        busy(0.004)
        b = run.request(tokens_out=10).start()
        busy(0.004)
        b.stop()
        busy(0.004)
        a.stop()
        busy(0.002)
        set_energy(package, 10_000_000)  # 10 J over the first reading interval, however it was spread in it
        first = request_log(run)  # a reading now
        assert first is not None
        c = run.request().start()
        busy(0.004)
        set_energy(package, 16_000_000)  # 6 J over the second
        middle = request_log(run)  # a reading while C is in flight
        assert middle is not None
        busy(0.004)
        c.stop()
        set_energy(package, 20_000_000)  # 4 J over the last
    assert run.result is not None and run.result.energy_j == pytest.approx(20.0)
    final = summarize(run)
    assert final is not None and final.open_requests == 0 and final.unsettled_energy_j == 0.0

    # A and B ended before the first reading: settled by it, with the idle energy of that interval
    assert [r.request_id for r in first.requests] == ["1", "2"] and first.open_requests == 0
    ra, rb = a.energy, b.energy
    assert ra is not None and rb is not None
    t1 = first.measured_s
    power = 10.0 / t1
    a0, a1, b0, b1 = ra.start_s, ra.end_s, rb.start_s, rb.end_s
    assert 0 < a0 < b0 < b1 < a1 < t1
    rate_a, rate_b = 40 / (a1 - a0), 10 / (b1 - b0)  # tokens per second: the overlap is shared by them
    share_a = rate_a / (rate_a + rate_b)
    assert ra.energy_j == pytest.approx(power * ((b0 - a0) + (b1 - b0) * share_a + (a1 - b1)), rel=1e-9)
    assert rb.energy_j == pytest.approx(power * (b1 - b0) * (1 - share_a), rel=1e-9)
    assert first.idle_energy_j == pytest.approx(power * (t1 - (a1 - a0)), rel=1e-9)
    assert ra.energy_j + rb.energy_j + first.idle_energy_j == pytest.approx(10.0, rel=1e-9)
    assert (ra.sharing, rb.sharing, ra.edges) == ("tokens", "tokens", "interpolated")

    # what interpolation cannot know grows with the part of the reading interval a request leaves out
    for found, covered in ((ra, (a1 - a0) / t1), (rb, (b1 - b0) / t1)):
        spread = INTERPOLATION_SPREAD_REL * (1 - covered)  # the first interval: no earlier power to compare
        assert found.interpolation_uncertainty_rel == pytest.approx(spread, rel=1e-9)
        assert found.uncertainty_rel == pytest.approx(math.hypot(PACKAGE_UNCERTAINTY, spread), rel=1e-9)
    assert rb.uncertainty_rel > ra.uncertainty_rel > PACKAGE_UNCERTAINTY

    # C spans the middle reading: its part of each interval, at each interval's own power
    assert middle.open_requests == 1 and middle.requests == first.requests
    rc = c.energy
    assert rc is not None
    t2, t3 = middle.measured_s, final.measured_s
    c0, c1 = rc.start_s, rc.end_s
    assert t1 < c0 < t2 < c1 < t3
    assert middle.unsettled_energy_j == pytest.approx(6.0 * (t2 - c0) / (t2 - t1), rel=1e-9)
    assert rc.energy_j == pytest.approx(6.0 * (t2 - c0) / (t2 - t1) + 4.0 * (c1 - t2) / (t3 - t2), rel=1e-9)
    assert rc.sharing == "time"  # alone, no size stated

    assert sum(r.energy_j for r in final.requests) + final.idle_energy_j == pytest.approx(20.0, rel=1e-9)
    assert final.measured_energy_j == pytest.approx(run.result.energy_j, rel=1e-12)

    # the figures say how the edges were placed, and how much of their uncertainty that accounts for
    whole = final.whole
    assert whole.edges == "interpolated"
    parts = sum(r.energy_j * r.interpolation_uncertainty_rel for r in (ra, rb, rc))
    assert whole.interpolation_uncertainty_rel == pytest.approx(parts / whole.energy_j, rel=1e-9)
    assert "edges interpolated" in str(final)


def test_overlapping_requests_within_one_reading_interval_share_it_by_time_without_sizes(tmp_path: Path) -> None:
    root, package = package_tree(tmp_path)
    with wattprint.Tracker(powercap_root=root, gpus=False, store="off", interval_s=3600) as run:
        a = run.request().start()
        busy(0.003)
        b = run.request().start()
        busy(0.003)
        a.stop()
        b.stop()
        set_energy(package, 3_000_000)
    ra, rb = a.energy, b.energy
    assert ra is not None and rb is not None and run.result is not None
    power = 3.0 / run.result.duration_s
    overlap = ra.end_s - rb.start_s
    assert ra.energy_j == pytest.approx(power * ((rb.start_s - ra.start_s) + overlap / 2), rel=1e-6)
    assert rb.energy_j == pytest.approx(power * (overlap / 2 + (rb.end_s - ra.end_s)), rel=1e-6)


class ReadCounter:
    """Counts the meter's readings (every path to the sensors goes through ``Meter.read``), calling through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Meter.read

        def read(meter: Meter, sub: Subscription, *, final: bool = False) -> Snapshot:
            self.count += 1
            return original(meter, sub, final=final)

        monkeypatch.setattr(Meter, "read", read)


def test_an_edge_reads_the_meter_only_when_a_reading_is_due_or_exact_edges_are_asked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, package = package_tree(tmp_path)
    reads = ReadCounter(monkeypatch)
    with wattprint.Tracker(powercap_root=root, gpus=False, store="off", interval_s=3600) as run:
        before = reads.count
        for i in range(300):
            with run.request(tokens_in=3) as req:
                if i % 2:
                    req.first_token()
                req.tokens_out = 5
        assert reads.count == before  # 900 edges, no reading
        for _ in range(4):
            with run.request(tokens_in=3, exact=True) as exact:
                exact.first_token()
        assert reads.count == before + 12  # a reading at each of their edges
        request_edges(run, "meter")  # every request from now on, the integrations' too
        with run.request(items=1) as req:
            assert req.exact
        assert reads.count == before + 14
        request_edges(run, "interpolated")
        set_energy(package, 7_000_000)
    result = summarize(run)
    assert result is not None and run.result is not None
    assert result.whole.requests == 305 and result.unsettled_energy_j == 0.0
    total = sum(r.energy_j for r in result.requests) + result.idle_energy_j
    assert total == pytest.approx(run.result.energy_j, rel=1e-9) and total == pytest.approx(7.0)
    assert {r.edges for r in result.requests} == {"interpolated", "meter"} and result.whole.edges == "mixed"
    assert all(r.interpolation_uncertainty_rel == 0.0 for r in result.requests if r.edges == "meter")
    with pytest.raises(wattprint.ConfigError, match="request_edges"):
        request_edges(run, "exact")


def test_readings_come_at_most_once_per_interval_and_settle_the_requests_before_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = package_tree(tmp_path)
    reads = ReadCounter(monkeypatch)
    interval = 0.02
    with wattprint.Tracker(powercap_root=root, gpus=False, store="off", interval_s=interval) as run:
        before = reads.count
        started = time.monotonic()
        served: list[Request] = []
        while len(served) < 50 or time.monotonic() - started < 5 * interval:
            with run.request(tokens_in=1) as req:
                busy(0.0002)
            served.append(req)
        elapsed = time.monotonic() - started
        taken = reads.count - before
        assert taken <= elapsed / interval + 1
        assert taken >= 1  # the first edge after interval_s read the meter...
        settled = [r for r in served if r._span.result is not None]  # (read without asking: no reading)
        assert settled and served[0]._span.result is not None  # ...and settled the requests ended before it
    result = summarize(run)
    assert result is not None and run.result is not None and result.whole.requests == len(served)
    assert sum(r.energy_j for r in result.requests) + result.idle_energy_j == pytest.approx(run.result.energy_j,
                                                                                           rel=1e-9)
