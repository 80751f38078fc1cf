"""The steady-state window on synthetic request traces with a known answer, and the figures over it."""

from __future__ import annotations

import pytest

from wattprint.core.errors import ConfigError
from wattprint.inference import figures, steady_window, summarize_log
from wattprint.inference.figures import percentile
from wattprint.run.requests import RequestEnergy, RequestLog


def ramp_hold_drain(streams: int = 4, hold_requests: int = 10) -> list[tuple[float, float]]:
    """``streams`` clients joining one a second, each sending back-to-back 1 s requests, then leaving one a
    second: concurrency 1, 2, 3, 4 (from 3 s to 13 s), then 3, 2, 1 until 16 s."""
    spans = []
    for stream in range(streams):
        t = float(stream)
        for _ in range(hold_requests + streams - 1):
            spans.append((t, t + 1.0))
            t += 1.0
    return spans


def test_the_window_is_the_hold_between_ramp_up_and_drain() -> None:
    spans = ramp_hold_drain()
    window = steady_window(spans)
    assert window is not None
    assert window.concurrency == 4
    ends = sorted(end for _, end in spans)
    assert (window.start_s, window.end_s) == (3.0, 13.0)  # stream 3 joins at 3 s; stream 0's last ends at 13 s
    assert ends[-1] == 16.0  # the drain goes on to 16 s: left out
    inside = [s for s in spans if window.holds(*s)]
    assert len(inside) == 4 * 10


def test_requests_one_at_a_time_are_steady_over_their_busy_span() -> None:
    window = steady_window([(2.0, 3.0), (3.0, 4.5), (5.0, 6.0)])
    assert window is not None
    assert (window.start_s, window.end_s, window.concurrency) == (2.0, 6.0, 1)


def test_no_busy_time_means_no_window() -> None:
    assert steady_window([]) is None
    assert steady_window([(1.0, 1.0)]) is None


def request(index: int, start_s: float, end_s: float, energy_j: float, *, tokens_in: int | None = None,
            tokens_out: int | None = None) -> RequestEnergy:
    return RequestEnergy(request_id=str(index), started_at=1e6 + start_s, start_s=start_s,
                         duration_s=end_s - start_s, energy_j=energy_j, method="counter", uncertainty_rel=0.05,
                         sharing="tokens", tokens_in=tokens_in, tokens_out=tokens_out)


def test_figures_have_known_percentiles_per_token_and_per_thousand_requests() -> None:
    requests = [request(i, float(i), float(i) + 1, energy_j=float(i + 1), tokens_in=5, tokens_out=10)
                for i in range(10)]  # 1 J .. 10 J, 10 output tokens each
    found = figures(requests, 20.0, emissions_g_per_j=0.5 / 3600, emissions_uncertainty_rel=0.2)
    assert found is not None
    assert found.energy_j == 55.0 and found.j_per_request_mean == 5.5
    assert found.j_per_request_p50 == pytest.approx(5.5)
    assert found.j_per_request_p95 == pytest.approx(9.55)
    assert found.j_per_output_token == pytest.approx(0.55)
    assert found.output_tokens_per_j == pytest.approx(100 / 55)
    assert found.wh_per_1000_requests == pytest.approx(5.5 * 1000 / 3600)
    assert found.emissions_g_per_1000_requests == pytest.approx(5.5 * 1000 * 0.5 / 3600)
    assert found.requests_per_s == 0.5
    assert (found.tokens_in, found.tokens_out, found.items) == (50, 100, None)
    assert found.j_per_prefill_token is None  # no request marked its first token
    assert found.method == "counter" and found.uncertainty_rel == pytest.approx(0.05)
    assert percentile([3.0], 95) == 3.0


def test_the_result_names_its_window_and_keeps_the_whole_run_beside_it() -> None:
    spans = ramp_hold_drain()
    requests = [request(i, start, end, energy_j=2.0 if start >= 3 and end <= 13 else 5.0, tokens_out=4)
                for i, (start, end) in enumerate(spans)]
    log = RequestLog(run_id="r", requests=tuple(requests), idle_energy_j=7.0, idle_s=3.0,
                     measured_energy_j=sum(r.energy_j for r in requests) + 7.0, measured_s=19.0,
                     unsettled_energy_j=0.0, dropped_requests=0, dropped_energy_j=0.0, open_requests=0, final=True)
    result = summarize_log(log)
    assert result is not None and result.window is not None and result.steady is not None
    assert result.steady.requests == 40 and result.steady.j_per_request_mean == 2.0
    assert result.steady.requests_per_s == pytest.approx(4.0)
    assert result.whole.requests == len(spans) and result.whole.j_per_request_mean > 2.0
    assert result.whole.energy_j + result.idle_energy_j == pytest.approx(result.measured_energy_j)
    text = str(result)
    assert "Steady state (3–13 s, concurrency 4)" in text and "Whole run" in text and "Idle" in text
    given = summarize_log(log, window=(0.0, 19.0))
    assert given is not None and given.steady is not None and given.steady.requests == len(spans)
    assert given.window is not None and given.window.rule == "given"
    with pytest.raises(ConfigError, match="start_s < end_s"):
        summarize_log(log, window=(5.0, 5.0))
