"""The inference section as a person reads it: the steady-state figures, the whole run's beside them, idle."""

from __future__ import annotations

from wattprint.core.formatting import format_duration, format_emissions, format_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.request_figures import InferenceFigures, InferenceResult


def seconds_text(seconds: float) -> str:
    """A duration that stays readable below a second (``0.0224 s``), as H:MM:SS from a minute."""
    return f"{format_number(max(0.0, seconds))} s" if seconds < 60 else format_duration(seconds)


def _j(value: float | None) -> str:
    return "—" if value is None else f"{format_number(value)} J"


def _pm(value: float | None) -> str:
    return "" if value is None else f" ±{value:.0%}"


def _rows(figures: InferenceFigures) -> list[tuple[str, str]]:
    """(label, text) per figure; each energy figure with its uncertainty (the method is on the last row)."""
    u = _pm(figures.uncertainty_rel)
    spread = (f" (percentiles to a histogram bin, ±{figures.percentile_resolution_rel:.0%})"
              if figures.percentile_resolution_rel else "")
    rows = [
        ("requests", f"{figures.requests} in {seconds_text(figures.duration_s)}"
                     + (f" ({format_number(figures.requests_per_s)}/s)" if figures.requests_per_s else "")),
        ("J per request", f"mean {_j(figures.j_per_request_mean)}{u}, p50 {_j(figures.j_per_request_p50)}, "
                          f"p95 {_j(figures.j_per_request_p95)}{spread}"),
        ("per 1,000 requests", f"{format_number(figures.wh_per_1000_requests)} Wh{u}"
         + ("" if figures.emissions_g_per_1000_requests is None
            else f", {format_emissions(figures.emissions_g_per_1000_requests)}"
                 f"{_pm(figures.emissions_uncertainty_rel)}")),
    ]
    if figures.j_per_output_token is not None:
        text = f"{_j(figures.j_per_output_token)}{u} per output token"
        if figures.output_tokens_per_j is not None:
            text += f", {format_number(figures.output_tokens_per_j)} tokens/J"
        rows.append(("tokens", text))
    if figures.j_per_prefill_token is not None or figures.j_per_decode_token is not None:
        rows.append(("prefill / decode", f"{_j(figures.j_per_prefill_token)} / {_j(figures.j_per_decode_token)} "
                                         f"per token{u}"))
    if figures.time_to_first_token_s_mean is not None:
        rows.append(("first token", f"after {format_number(figures.time_to_first_token_s_mean)} s on average"))
    if figures.j_per_item is not None:
        rows.append(("items", f"{_j(figures.j_per_item)}{u} per item"))
    method = f"{figures.method}{u}, shared by {figures.sharing}"
    if figures.edges is not None:
        method += f", edges {figures.edges}"
        if figures.interpolation_uncertainty_rel:
            method += f" (±{figures.interpolation_uncertainty_rel:.0%} of it from placing them between readings)"
    rows.append(("method", method))
    return rows


def inference_text(result: InferenceResult) -> str:
    """Lines for a terminal: the steady state (with its window) first, then the whole run, then idle."""
    lines = []
    sections: list[tuple[str, InferenceFigures]] = []
    window = result.window
    if result.steady is not None and window is not None:
        level = f", concurrency {window.concurrency}" if window.concurrency is not None else ""
        sections.append((f"Steady state ({format_number(window.start_s)}–{format_number(window.end_s)} s"
                         f"{level})", result.steady))
    sections.append(("Whole run", result.whole))
    for title, figures in sections:
        lines.append(title)
        lines += [f"  {label:<19}{value}" for label, value in _rows(figures)]
    if result.endpoints:
        lines.append("By endpoint (whole run)")
        width = max(len(name) for name in result.endpoints) + 2
        for name, found in result.endpoints.items():
            lines.append(f"  {name:<{width}}{found.requests} requests, mean {_j(found.j_per_request_mean)}, "
                         f"p95 {_j(found.j_per_request_p95)}")
    share = result.idle_energy_j / result.measured_energy_j if result.measured_energy_j > 0 else 0.0
    lines.append(f"Idle (no request in flight): {_j(result.idle_energy_j)} over {seconds_text(result.idle_s)} "
                 f"({share:.0%} of the measured energy), not spread over requests")
    if result.dropped_requests:
        lines.append(f"Figures over the latest {len(result.requests):,} requests; {result.dropped_requests:,} earlier "
                     f"ones ({_j(result.dropped_energy_j)}) are counted but not kept")
    if result.open_requests or result.unsettled_energy_j:
        lines.append(f"Not yet settled: {result.open_requests} open requests, {_j(result.unsettled_energy_j)}")
    return "\n".join(lines)
