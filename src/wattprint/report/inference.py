"""The inference section of a stored run's report and of ``wattprint show``: energy per request, per token and per
1,000 requests over the steady state and the whole run, rebuilt from the sums the store keeps (docs/inference.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from wattprint.core.formatting import format_emissions, format_number
from wattprint.run.request_text import seconds_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import RequestIntervalRecord, RunRecord
    from wattprint.integrations.bench_inference import BenchResult
    from wattprint.run.request_figures import InferenceFigures, InferenceResult

HEADER = ["Figure", "Steady state", "Whole run"]


def stored_inference(run: RunRecord, rows: Sequence[RequestIntervalRecord]) -> InferenceResult | None:
    """A stored run's inference figures from its request rows, emissions priced as the run was; None without."""
    from wattprint.run.request_figures import from_intervals

    per_j = uncertainty = None
    if run.emissions_g is not None and run.energy_j > 0:
        per_j, uncertainty = run.emissions_g / run.energy_j, run.emissions_uncertainty_rel
    return from_intervals(run.run_id, rows, measured_energy_j=run.energy_j, measured_s=run.duration_s,
                          emissions_g_per_j=per_j, emissions_uncertainty_rel=uncertainty)


def read_requests(store: Any, run_id: str) -> tuple[RequestIntervalRecord, ...]:
    """The request rows of a run in a local store or on a team server (``show --server``)."""
    from wattprint.store.runstore import RunStore

    if isinstance(store, RunStore):
        from wattprint.store.requests import read_request_intervals

        return tuple(read_request_intervals(store, run_id))
    rows = getattr(store, "request_intervals", None)
    return tuple(rows(run_id)) if callable(rows) else ()


def bench_text(result: BenchResult) -> str:
    """What ``wattprint bench-inference`` prints: what was run, the figures, and the stored run."""
    facts = result.facts
    return "\n".join([
        f"{result.model}: {facts.get('model_class')}, {facts.get('parameters', 0):,} parameters ({facts.get('dtype')});"
        f" {result.requests} requests in batches of {result.batch_size}, {result.max_new_tokens} new tokens at most,"
        f" {result.warmup_batches} warm-up batch(es) left out",
        str(result.inference),
        f"run {result.run.run_id} ('wattprint show {result.run.run_id[:8]}' shows it again)",
    ])


def _j(value: float | None, uncertainty: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{format_number(value)} J" + (f" ±{uncertainty:.0%}" if uncertainty else "")


def _cells(f: InferenceFigures | None) -> list[str]:
    if f is None:
        return ["-"] * 9
    u = f.uncertainty_rel
    spread = f" (±{f.percentile_resolution_rel:.0%} bin)" if f.percentile_resolution_rel else ""
    return [
        f"{f.requests:,} in {seconds_text(f.duration_s)}"
        + (f", {format_number(f.requests_per_s)}/s" if f.requests_per_s else ""),
        f"{_j(f.j_per_request_mean, u)}; p50 {_j(f.j_per_request_p50)}, p95 {_j(f.j_per_request_p95)}{spread}",
        f"{_j(f.j_per_output_token, u)}" + (f" ({format_number(f.output_tokens_per_j)} tokens/J)"
                                            if f.output_tokens_per_j else ""),
        f"{_j(f.j_per_prefill_token, u)} / {_j(f.j_per_decode_token, u)}",
        _j(f.j_per_item, u),
        f"{format_number(f.wh_per_1000_requests)} Wh ±{u:.0%}",
        "-" if f.emissions_g_per_1000_requests is None else
        f"{format_emissions(f.emissions_g_per_1000_requests)} ±{f.emissions_uncertainty_rel or 0:.0%}",
        "-" if f.time_to_first_token_s_mean is None else f"{format_number(f.time_to_first_token_s_mean)} s",
        f"{f.method}, shared by {f.sharing}",
    ]


LABELS = ["Requests", "J per request (mean; p50, p95)", "J per output token", "J per prefill / decode token",
          "J per item", "Energy per 1,000 requests", "Emissions per 1,000 requests", "Time to first token (mean)",
          "Method"]


def inference_rows(result: InferenceResult) -> list[list[str]]:
    """The figures as table rows: figure, steady state, whole run (rows with nothing to say left out)."""
    steady, whole = _cells(result.steady), _cells(result.whole)
    return [[label, s, w] for label, s, w in zip(LABELS, steady, whole, strict=True) if (s, w) != ("-", "-")]


def window_sentence(result: InferenceResult) -> str:
    """Where the steady state is, how it was found, and the idle energy beside it."""
    window = result.window
    if window is None or result.steady is None:
        text = "No steady state was found; the figures are the whole run's."
    else:
        level = f" at {window.concurrency} request(s) in flight" if window.concurrency is not None else ""
        text = (f"Steady state: {format_number(window.start_s)} s to {format_number(window.end_s)} s from the "
                f"start{level} (warm-up and drain left out; rule: {window.rule}).")
    share = result.idle_energy_j / result.measured_energy_j if result.measured_energy_j > 0 else 0.0
    return (f"{text} Idle (no request in flight): {_j(result.idle_energy_j)} over {seconds_text(result.idle_s)}"
            f" ({share:.0%} of the run's energy), not spread over the requests. Each request's share is of the "
            "measured energy; shares add up to it.")

