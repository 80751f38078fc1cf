"""Sharing measured interval energy among overlapping requests, on constructed timelines with known numbers."""

from __future__ import annotations

import pytest

from wattprint.inference import summarize_log
from wattprint.measure.meter import Snapshot
from wattprint.run import requests as requests_module
from wattprint.run.requests import MIXED, TIME, TOKENS, RequestEnergy, RequestLedger, RequestLog, _Span
from wattprint.sensors.base import SensorMeta

SLOTS = [("rapl:pkg", "counter"), ("rapl:dram", "counter")]
META = {"rapl:pkg": SensorMeta("cpu", "package-0", {"counter": 0.02}),
        "rapl:dram": SensorMeta("ram", "dram", {"counter": 0.1})}


class Timeline:
    """A ledger fed snapshots at chosen times with chosen cumulative energies (CPU, RAM)."""

    def __init__(self) -> None:
        self.ledger = RequestLedger("run", self.snap(0.0, 0.0))

    @staticmethod
    def snap(t: float, cpu_j: float, ram_j: float = 0.0) -> Snapshot:
        return Snapshot(t, 1_000_000.0 + t, (cpu_j, ram_j), SLOTS, META)

    def open(self, t: float, cpu_j: float, *, tokens_in: int | None = None, tokens_out: int | None = None,
             items: int | None = None) -> _Span:
        span = _Span(None, tokens_in, tokens_out, items)
        self.ledger.open(self.snap(t, cpu_j), span)
        return span

    def close(self, t: float, cpu_j: float, span: _Span) -> None:
        self.ledger.close(self.snap(t, cpu_j), span)


def two_overlapping(*, a_tokens: int | None, b_tokens: int | None) -> tuple[RequestEnergy, RequestEnergy, RequestLog]:
    """A from 1 s to 5 s, B from 3 s to 4 s; 1 J idle, 4 J A alone, 8 J both, 2 J A alone, 3 J idle."""
    line = Timeline()
    a = line.open(1.0, 1.0, tokens_out=a_tokens)
    b = line.open(3.0, 5.0, tokens_out=b_tokens)
    line.close(4.0, 13.0, b)
    line.close(5.0, 15.0, a)
    line.ledger.finish(line.snap(6.0, 18.0))
    log = line.ledger.log()
    by_id = {r.request_id: r for r in log.requests}
    return by_id["1"], by_id["2"], log


def test_tokens_share_an_interval_by_the_rate_each_request_processed_them() -> None:
    # A: 40 tokens over 4 s (10/s), B: 30 tokens over 1 s (30/s): the shared 8 J split 2 J : 6 J
    a, b, log = two_overlapping(a_tokens=40, b_tokens=30)
    assert a.energy_j == pytest.approx(4 + 2 + 2)
    assert b.energy_j == pytest.approx(6)
    assert (a.sharing, b.sharing) == (TOKENS, TOKENS)
    assert log.idle_energy_j == pytest.approx(4)
    assert log.idle_s == pytest.approx(2)
    assert log.requests_energy_j + log.idle_energy_j == pytest.approx(log.measured_energy_j, rel=1e-12)
    assert log.measured_energy_j == 18.0


def test_without_token_counts_an_interval_is_shared_equally_by_time() -> None:
    a, b, _ = two_overlapping(a_tokens=None, b_tokens=None)
    assert a.energy_j == pytest.approx(4 + 4 + 2)
    assert b.energy_j == pytest.approx(4)
    assert (a.sharing, b.sharing) == (TIME, TIME)


def test_one_request_of_unknown_size_makes_its_intervals_shared_by_time() -> None:
    a, b, _ = two_overlapping(a_tokens=40, b_tokens=None)
    assert a.energy_j == pytest.approx(10)
    assert b.energy_j == pytest.approx(4)
    assert a.sharing == MIXED  # tokens alone, time while B overlapped
    assert b.sharing == TIME


def test_prefill_and_decode_are_shared_by_their_own_token_rates_and_split_at_the_first_token() -> None:
    # A: 100 prompt tokens in 1 s of prefill, 20 output tokens over 4 s; B (no phases): 10 + 10 tokens over 2 s
    line = Timeline()
    a = line.open(0.0, 0.0, tokens_in=100, tokens_out=20)
    line.ledger.mark_first(line.snap(1.0, 10.0), a)  # prefill: 10 J, A alone
    b = line.open(2.0, 14.0, tokens_in=10, tokens_out=10)  # A decoding alone: 4 J
    line.close(4.0, 24.0, b)  # both: A 5 tokens/s, B 10 tokens/s -> 10 J split 1/3 : 2/3
    line.close(5.0, 26.0, a)  # A alone: 2 J
    log = line.ledger.log()
    first, second = log.requests
    assert first.prefill_energy_j == pytest.approx(10)
    assert first.decode_energy_j == pytest.approx(4 + 10 / 3 + 2)
    assert first.energy_j == pytest.approx(10 + 4 + 10 / 3 + 2)
    assert first.time_to_first_token_s == pytest.approx(1.0)
    assert second.energy_j == pytest.approx(20 / 3)
    assert second.prefill_energy_j is None and second.time_to_first_token_s is None
    assert first.energy_j + second.energy_j == pytest.approx(26.0, rel=1e-12)


def test_a_request_settles_only_when_every_request_overlapping_it_has_ended() -> None:
    line = Timeline()
    long = line.open(0.0, 0.0, tokens_out=100)
    short = line.open(1.0, 1.0, tokens_out=1)
    line.close(2.0, 3.0, short)
    log = line.ledger.log()
    assert log.requests == ()  # the shared second's split needs the long request's rate
    assert log.unsettled_energy_j == pytest.approx(3.0)
    assert log.open_requests == 1
    line.close(10.0, 11.0, long)
    log = line.ledger.log()
    assert [r.request_id for r in log.requests] == ["1", "2"]
    assert log.unsettled_energy_j == 0.0
    assert sum(r.energy_j for r in log.requests) == pytest.approx(11.0)
    assert long.result is not None and short.result is not None
    # 1 s of 100 tokens over 10 s (10/s) against 1 token over 1 s: 2 J split 10 : 1
    assert short.result.energy_j == pytest.approx(2 * 1 / 11)


def test_items_share_like_tokens_and_methods_and_uncertainty_follow_the_sensors() -> None:
    line = Timeline()
    a = line.open(0.0, 0.0, items=3)
    b = line.open(0.0, 0.0, items=1)
    line.ledger.advance(Timeline.snap(1.0, 8.0, 4.0))  # 8 J CPU, 4 J RAM in one shared second
    line.ledger.close_many(Timeline.snap(1.0, 8.0, 4.0), [a, b])
    first, second = line.ledger.log().requests
    assert (first.energy_j, second.energy_j) == (pytest.approx(9.0), pytest.approx(3.0))
    assert first.sharing == "items" and first.method == "counter"
    # CPU ±2 % and RAM ±10 % are independent components: added in quadrature
    assert first.uncertainty_rel == pytest.approx((0.02**2 * 6**2 + 0.1**2 * 3**2) ** 0.5 / 9)


def test_the_runs_final_reading_ends_requests_still_open() -> None:
    line = Timeline()
    line.open(1.0, 1.0, tokens_out=5)
    line.ledger.finish(Timeline.snap(3.0, 7.0))
    log = line.ledger.log()
    assert log.final and log.open_requests == 0
    (request,) = log.requests
    assert request.duration_s == pytest.approx(2.0) and request.energy_j == pytest.approx(6.0)
    assert log.idle_energy_j == pytest.approx(1.0)


def test_a_long_run_keeps_the_latest_requests_and_counts_the_older_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests_module, "MAX_KEPT_REQUESTS", 3)
    line = Timeline()
    for i in range(5):  # request i: from 2i to 2i+1 s, (i + 1) J; 1 J idle after each
        span = line.open(2.0 * i, sum(j + 2 for j in range(i)))
        line.close(2.0 * i + 1, sum(j + 2 for j in range(i)) + i + 1, span)
    log = line.ledger.log()
    assert [r.request_id for r in log.requests] == ["3", "4", "5"]
    assert (log.dropped_requests, log.dropped_energy_j) == (2, pytest.approx(1 + 2))
    assert log.requests_energy_j + log.dropped_energy_j + log.idle_energy_j == pytest.approx(log.measured_energy_j)
    result = summarize_log(log)
    assert result is not None and result.whole.requests == 3 and result.dropped_requests == 2
    assert "2 earlier ones" in str(result)
