"""Inference figures of a run: energy per request, per token and per 1,000 requests, over the steady-state window
and over the whole run, each with its method and uncertainty.

Per-request energy is each request's share of the measured energy (``wattprint.run.requests``); the energy
while no request was in flight is idle, reported beside the figures and never spread over them. A finished run's
figures come from its requests (``run.result.inference``); a stored run's are rebuilt from the sums the store
keeps per time bucket (:func:`from_intervals`), its percentiles then known to a histogram bin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wattprint.core.units import J_PER_WH
from wattprint.run.steady import SteadyWindow, steady_window

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import RequestIntervalRecord, RequestRecord
    from wattprint.core.results import RunResult
    from wattprint.run.requests import RequestEnergy, RequestLog


@dataclass(frozen=True)
class InferenceFigures:
    """Figures over a set of requests and the time they were served in.

    ``energy_j`` is the requests' energy (idle excluded); ``uncertainty_rel`` its relative uncertainty (the
    requests share their sensors, so their errors add linearly); ``sharing`` how interval energy was shared
    (``tokens``, ``items``, ``time`` or ``mixed``). Token figures are None where no request stated its tokens;
    prefill and decode figures only count requests that marked their first token.
    """

    requests: int
    duration_s: float
    energy_j: float
    method: str
    uncertainty_rel: float
    sharing: str
    j_per_request_mean: float
    j_per_request_p50: float
    j_per_request_p95: float
    requests_per_s: float | None
    wh_per_1000_requests: float
    emissions_g_per_1000_requests: float | None
    emissions_uncertainty_rel: float | None
    tokens_in: int | None
    tokens_out: int | None
    j_per_output_token: float | None
    """Energy of the requests that stated output tokens over those tokens (prefill included)."""
    output_tokens_per_j: float | None
    j_per_prefill_token: float | None
    """Energy before the first token over the prompt tokens (requests that marked their first token)."""
    j_per_decode_token: float | None
    """Energy after the first token over the output tokens (requests that marked their first token)."""
    items: int | None
    j_per_item: float | None
    time_to_first_token_s_mean: float | None = None
    """Mean time to first token over the requests that marked it."""
    percentile_resolution_rel: float = 0.0
    """0 for percentiles of every request; for a stored run's, read from a histogram, how far (relative) the true
    value may be from the one given (``request_buckets.HALF_BIN_REL``, about 0.12)."""
    edges: str | None = None
    """How the requests' edges were placed: ``interpolated`` (between the meter's readings), ``meter`` (a reading
    at each edge) or ``mixed``; None for figures rebuilt from stored sums, which do not keep it."""
    interpolation_uncertainty_rel: float | None = None
    """The part of ``uncertainty_rel`` that interpolating the edges accounts for (the requests' own, added
    linearly as ``uncertainty_rel`` is); already inside ``uncertainty_rel``. None where ``edges`` is."""


@dataclass(frozen=True, repr=False)
class InferenceResult:
    """A run's inference figures: ``steady`` over ``window`` (None when no steady state was found), ``whole`` over
    the run, and the idle energy beside them. ``requests`` are the settled requests, oldest first.

    ``whole.energy_j + dropped_energy_j + idle_energy_j + unsettled_energy_j == measured_energy_j`` up to
    rounding. A run past ``MAX_KEPT_REQUESTS`` keeps the latest requests: its figures are theirs, and the older
    ones are counted in ``dropped_requests`` with their energy.
    """

    run_id: str
    whole: InferenceFigures
    steady: InferenceFigures | None
    window: SteadyWindow | None
    idle_energy_j: float
    idle_s: float
    measured_energy_j: float
    measured_s: float
    unsettled_energy_j: float
    open_requests: int
    requests: tuple[RequestEnergy, ...]
    dropped_requests: int = 0
    dropped_energy_j: float = 0.0
    emissions_g_per_j: float | None = None
    """The run's emissions per joule (PUE and grid intensity), used for the per-1,000-request emissions."""
    endpoints: Mapping[str, InferenceFigures] = field(default_factory=dict)
    """The whole run's figures per endpoint (requests given an ``endpoint``), by name."""

    def records(self) -> tuple[RequestRecord, ...]:
        """The requests as wire records (``wattprint.api.records.RequestRecord``), emissions priced."""
        per_j = self.emissions_g_per_j
        return tuple(r.to_record(self.run_id, None if per_j is None else r.energy_j * per_j) for r in self.requests)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the figures (``--json``): the requests themselves are only counted."""
        from dataclasses import asdict

        return {
            "run_id": self.run_id,
            "steady": asdict(self.steady) if self.steady is not None else None,
            "window": ({**asdict(self.window), "duration_s": self.window.duration_s}
                       if self.window is not None else None),
            "whole": asdict(self.whole),
            "endpoints": {name: asdict(found) for name, found in self.endpoints.items()},
            "idle_energy_j": self.idle_energy_j,
            "idle_s": self.idle_s,
            "measured_energy_j": self.measured_energy_j,
            "measured_s": self.measured_s,
            "unsettled_energy_j": self.unsettled_energy_j,
            "open_requests": self.open_requests,
            "kept_requests": len(self.requests),
            "dropped_requests": self.dropped_requests,
            "dropped_energy_j": self.dropped_energy_j,
            "emissions_g_per_j": self.emissions_g_per_j,
        }

    def __str__(self) -> str:
        from wattprint.run.request_text import inference_text

        return inference_text(self)

    def __repr__(self) -> str:
        return (f"<InferenceResult run={self.run_id} requests={self.whole.requests} "
                f"j_per_request={self.whole.j_per_request_mean:.4g} idle_j={self.idle_energy_j:.4g}>")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between closest ranks."""
    if not values:
        raise ValueError("percentile() needs at least one value")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _weakest(methods: Sequence[str]) -> str:
    from wattprint.core.methods import weakest_method

    return weakest_method(methods) if methods else "model"


def figures(requests: Sequence[RequestEnergy], duration_s: float, *, emissions_g_per_j: float | None = None,
            emissions_uncertainty_rel: float | None = None) -> InferenceFigures | None:
    """Figures of ``requests`` served over ``duration_s`` seconds (None without requests)."""
    if not requests:
        return None
    n = len(requests)
    energies = [r.energy_j for r in requests]
    energy = sum(energies)
    absolute = sum(r.energy_j * r.uncertainty_rel for r in requests)
    used = [r.method for r in requests if r.energy_j > 0] or [r.method for r in requests]
    bases = {r.sharing for r in requests}
    edges = {r.edges for r in requests}
    with_out = [r for r in requests if r.tokens_out is not None]
    tokens_out = sum(r.tokens_out or 0 for r in with_out) if with_out else None
    out_energy = sum(r.energy_j for r in with_out)
    with_in = [r for r in requests if r.tokens_in is not None]
    phased = [r for r in requests if r.prefill_energy_j is not None]
    prefill_tokens = sum(r.tokens_in or 0 for r in phased if r.tokens_in is not None)
    decode_tokens = sum(r.tokens_out or 0 for r in phased if r.tokens_out is not None)
    with_items = [r for r in requests if r.items is not None]
    items = sum(r.items or 0 for r in with_items) if with_items else None
    ttfts = [r.time_to_first_token_s for r in requests if r.time_to_first_token_s is not None]
    per_1000_wh = energy / n * 1000 / J_PER_WH
    return InferenceFigures(
        requests=n,
        duration_s=duration_s,
        energy_j=energy,
        method=_weakest(used),
        uncertainty_rel=absolute / energy if energy > 0 else max(r.uncertainty_rel for r in requests),
        sharing=bases.pop() if len(bases) == 1 else "mixed",
        j_per_request_mean=energy / n,
        j_per_request_p50=percentile(energies, 50),
        j_per_request_p95=percentile(energies, 95),
        requests_per_s=n / duration_s if duration_s > 0 else None,
        wh_per_1000_requests=per_1000_wh,
        emissions_g_per_1000_requests=None if emissions_g_per_j is None else energy / n * 1000 * emissions_g_per_j,
        emissions_uncertainty_rel=emissions_uncertainty_rel if emissions_g_per_j is not None else None,
        tokens_in=sum(r.tokens_in or 0 for r in with_in) if with_in else None,
        tokens_out=tokens_out,
        j_per_output_token=out_energy / tokens_out if tokens_out else None,
        output_tokens_per_j=tokens_out / out_energy if tokens_out and out_energy > 0 else None,
        j_per_prefill_token=(sum(r.prefill_energy_j or 0.0 for r in phased if r.tokens_in is not None)
                             / prefill_tokens if prefill_tokens else None),
        j_per_decode_token=(sum(r.decode_energy_j or 0.0 for r in phased if r.tokens_out is not None)
                            / decode_tokens if decode_tokens else None),
        items=items,
        j_per_item=sum(r.energy_j for r in with_items) / items if items else None,
        time_to_first_token_s_mean=sum(ttfts) / len(ttfts) if ttfts else None,
        edges=edges.pop() if len(edges) == 1 else "mixed",
        interpolation_uncertainty_rel=(sum(r.energy_j * r.interpolation_uncertainty_rel for r in requests) / energy
                                       if energy > 0 else 0.0),
    )


def aggregate_figures(row: RequestIntervalRecord, duration_s: float, *, emissions_g_per_j: float | None = None,
                      emissions_uncertainty_rel: float | None = None) -> InferenceFigures | None:
    """The figures of requests summed into one stored row (:func:`wattprint.run.request_buckets.merge`); None
    without requests. Percentiles are read from its energy histogram, to the bin."""
    from wattprint.run.request_buckets import HALF_BIN_REL, hist_percentile

    n = row.requests
    if n <= 0:
        return None
    energy = row.energy_j
    tokens_out = row.tokens_out
    out_energy = row.tokens_out_energy_j
    return InferenceFigures(
        requests=n,
        duration_s=duration_s,
        energy_j=energy,
        method=row.method,
        uncertainty_rel=row.uncertainty_rel,
        sharing=row.sharing,
        j_per_request_mean=energy / n,
        j_per_request_p50=hist_percentile(row.energy_hist, 50) or 0.0,
        j_per_request_p95=hist_percentile(row.energy_hist, 95) or 0.0,
        requests_per_s=n / duration_s if duration_s > 0 else None,
        wh_per_1000_requests=energy / n * 1000 / J_PER_WH,
        emissions_g_per_1000_requests=None if emissions_g_per_j is None else energy / n * 1000 * emissions_g_per_j,
        emissions_uncertainty_rel=emissions_uncertainty_rel if emissions_g_per_j is not None else None,
        tokens_in=row.tokens_in,
        tokens_out=tokens_out,
        j_per_output_token=out_energy / tokens_out if tokens_out else None,
        output_tokens_per_j=tokens_out / out_energy if tokens_out and out_energy > 0 else None,
        j_per_prefill_token=(row.prefill_energy_j / row.prefill_tokens
                             if row.prefill_energy_j is not None and row.prefill_tokens else None),
        j_per_decode_token=(row.decode_energy_j / row.decode_tokens
                            if row.decode_energy_j is not None and row.decode_tokens else None),
        items=row.items,
        j_per_item=row.items_energy_j / row.items if row.items else None,
        time_to_first_token_s_mean=(row.time_to_first_token_s / row.first_token_requests
                                    if row.first_token_requests else None),
        percentile_resolution_rel=HALF_BIN_REL,
    )


def from_intervals(run_id: str, rows: Sequence[RequestIntervalRecord], *, measured_energy_j: float,
                   measured_s: float, emissions_g_per_j: float | None = None,
                   emissions_uncertainty_rel: float | None = None) -> InferenceResult | None:
    """A stored run's figures rebuilt from its request rows (``RequestIntervalRecord``): the whole run from its
    time buckets, the steady state from its ``STEADY_BUCKET`` rows, figures per endpoint. None without requests.
    Every request is counted (the store never drops any); ``requests`` is empty (not stored one by one)."""
    from wattprint.api.records import STEADY_BUCKET
    from wattprint.run.request_buckets import by_endpoint, merge

    timed = [r for r in rows if r.bucket != STEADY_BUCKET]
    steady_rows = [r for r in rows if r.bucket == STEADY_BUCKET]
    price = {"emissions_g_per_j": emissions_g_per_j, "emissions_uncertainty_rel": emissions_uncertainty_rel}
    merged = merge(timed)
    whole = aggregate_figures(merged, measured_s, **price) if merged is not None else None
    if merged is None or whole is None:
        return None
    window = steady = None
    steady_merged = merge(steady_rows)
    if steady_merged is not None:
        window = SteadyWindow(start_s=steady_merged.start_offset_s, end_s=steady_merged.end_offset_s,
                              concurrency=steady_merged.concurrency)
        steady = aggregate_figures(steady_merged, window.duration_s, **price)
    endpoints = {name: part for name, row in by_endpoint(timed).items()
                 if name and (part := aggregate_figures(row, measured_s, **price)) is not None}
    return InferenceResult(
        run_id=run_id, whole=whole, steady=steady, window=window, idle_energy_j=merged.idle_energy_j,
        idle_s=merged.idle_s, measured_energy_j=measured_energy_j, measured_s=measured_s, unsettled_energy_j=0.0,
        open_requests=0, requests=(), emissions_g_per_j=emissions_g_per_j, endpoints=endpoints,
    )


def summarize_log(log: RequestLog, *, window: tuple[float, float] | None = None,
                  result: RunResult | None = None) -> InferenceResult | None:
    """The figures of a request log; ``window`` (seconds from the run's start) replaces the detected steady
    state; ``result`` (the run's) prices emissions. None when no request has settled."""
    from wattprint.core.errors import ConfigError

    per_j = uncertainty = None
    if result is not None and result.emissions_g is not None and result.energy_j > 0:
        per_j, uncertainty = result.emissions_g / result.energy_j, result.emissions_uncertainty_rel
    whole = figures(log.requests, log.measured_s, emissions_g_per_j=per_j, emissions_uncertainty_rel=uncertainty)
    if whole is None:
        return None
    if window is None:
        found = steady_window((r.start_s, r.end_s) for r in log.requests)
    else:
        start_s, end_s = window
        if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s <= start_s:
            raise ConfigError(f"window must be (start_s, end_s) with start_s < end_s, got {window!r}")
        found = SteadyWindow(start_s=start_s, end_s=end_s, concurrency=None, rule="given")
    steady = None
    if found is not None:
        inside = [r for r in log.requests if found.holds(r.start_s, r.end_s)]
        steady = figures(inside, found.duration_s, emissions_g_per_j=per_j, emissions_uncertainty_rel=uncertainty)
    named: dict[str, list[RequestEnergy]] = {}
    for request in log.requests:
        if request.endpoint is not None:
            named.setdefault(request.endpoint, []).append(request)
    endpoints = {name: part for name, group in sorted(named.items())
                 if (part := figures(group, log.measured_s, emissions_g_per_j=per_j,
                                     emissions_uncertainty_rel=uncertainty)) is not None}
    return InferenceResult(
        run_id=log.run_id, whole=whole, steady=steady, window=found, idle_energy_j=log.idle_energy_j,
        idle_s=log.idle_s, measured_energy_j=log.measured_energy_j, measured_s=log.measured_s,
        unsettled_energy_j=log.unsettled_energy_j, open_requests=log.open_requests, requests=log.requests,
        dropped_requests=log.dropped_requests, dropped_energy_j=log.dropped_energy_j,
        emissions_g_per_j=per_j, endpoints=endpoints,
    )

