"""Inference figures of a run: energy per request, per token and per 1,000 requests, over the steady-state window
and over the whole run, each with its method and uncertainty.

Per-request energy is each request's share of the measured energy (``wattprint.run.requests``); the energy
while no request was in flight is idle, reported beside the figures and never spread over them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wattprint.core.units import J_PER_WH
from wattprint.inference.steady import SteadyWindow, steady_window

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import RequestRecord
    from wattprint.core.results import RunResult
    from wattprint.run.base import TrackerBase
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

    def __str__(self) -> str:
        from wattprint.inference.text import inference_text

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
    with_out = [r for r in requests if r.tokens_out is not None]
    tokens_out = sum(r.tokens_out or 0 for r in with_out) if with_out else None
    out_energy = sum(r.energy_j for r in with_out)
    with_in = [r for r in requests if r.tokens_in is not None]
    phased = [r for r in requests if r.prefill_energy_j is not None]
    prefill_tokens = sum(r.tokens_in or 0 for r in phased if r.tokens_in is not None)
    decode_tokens = sum(r.tokens_out or 0 for r in phased if r.tokens_out is not None)
    with_items = [r for r in requests if r.items is not None]
    items = sum(r.items or 0 for r in with_items) if with_items else None
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


def summarize(run: TrackerBase, *, window: tuple[float, float] | None = None) -> InferenceResult | None:
    """The inference figures of a tracker's current or last run (None when it served no request).

    While the run goes on, the figures cover the requests settled so far; after it stops, every request.
    """
    from wattprint.run.requests import request_log

    log = request_log(run)
    if log is None:
        return None
    result = run.result
    if not log.final:
        from wattprint.run.tracker import Tracker

        result = run.snapshot() if isinstance(run, Tracker) and run.running else None  # prices the figures so far
    return summarize_log(log, window=window, result=result)
