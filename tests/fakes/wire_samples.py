"""One sample of every record of the wire format, every field set to something other than its default: for the
schema's tests and for anything that must read or write every record (the server's document reader)."""

from __future__ import annotations

from typing import Any

from wattprint.api.records import (
    BudgetRecord,
    ComponentRecord,
    FingerprintRecord,
    GroupRecord,
    IntensityRecord,
    IntervalRecord,
    PredictionRecord,
    RequestIntervalRecord,
    RequestRecord,
    RunDocument,
    RunExtra,
    RunRecord,
    TaskRecord,
    TimeResolvedRecord,
)

COMPONENT = ComponentRecord("gpu", "gpu:0", 3600.0, 120.5, "sampled", 0.05)
PREDICTION = PredictionRecord(
    unit="epoch", after=2, total=10, duration_s=100.0, duration_s_low=90.0, duration_s_high=110.0,
    energy_kwh=1.5, energy_kwh_low=1.2, energy_kwh_high=1.8, emissions_g=300.0, emissions_g_low=250.0,
    emissions_g_high=350.0, level=0.9, interval_method="t", units_used=2, warmup_excluded=True,
    spent_duration_s=20.0, spent_energy_kwh=0.3, spent_emissions_g=60.0, made_at=1.7e9,
)
BUDGET = BudgetRecord(energy_kwh=1.0, emissions_g=None, policy="stop", basis="upper", exceeded=True,
                      exceeded_figures=(("energy_kwh", 1.8, 1.0),), message="energy 1.8 kWh > budget 1 kWh",
                      stop_requested=True)
TIME_RESOLVED = TimeResolvedRecord(
    emissions_g=12.0, emissions_uncertainty_rel=0.1, intensity_g_per_kwh=300.0, kind="average",
    provider="electricitymaps", provider_title="Electricity Maps", zone="DE", source="Electricity Maps API",
    licence="ODbL", live_share=0.7, forecast_share=0.1, fallback_share=0.2, coverage=0.8, intervals=4,
    fallback_intervals=1, fallback_reasons={"in_flight": 0.2}, waited_s=5.0, paused_s=3.0, pauses=1,
    notes=("a note",), timeline=((0.0, 10.0, 300.0, "live"), (10.0, 20.0, None, "fallback")),
    bucket_status={"fallback": (3,)},
)
GROUP = GroupRecord(group_id="torchrun:job-7", launcher="torchrun", rank=3, local_rank=1, world_size=4,
                    local_world_size=2, node_rank=1, node_count=2, attempt=1, measures_host=True, job_id="123")
EXTRA = RunExtra(
    pue_source="Uptime Institute", wue_l_per_kwh=1.8, wue_source="WRI", intensity_zone_name="Germany",
    intensity_licence="CC-BY-4.0", carbon_notes=("n",), predictions=(PREDICTION,), budget=BUDGET,
    fingerprint=FingerprintRecord({"lr": 0.1, "layers": [1, 2]}, "abc123", "train.py"), parent_run="p" * 32,
    time_resolved=TIME_RESOLVED, imported_from="codecarbon", tool_version="2.3", file="/x/emissions.csv",
    output_file="/x/out.log", line=2, rows_of_run=1, source_run_id="s", source_fields={"run_id": "s"},
    intensity_year_source="row timestamp", timestamp_zone="local", uncertainty_source="assigned",
    tags=("baseline", "lr-sweep"), group=GROUP,
)
RUN = RunRecord(
    run_id="a" * 32, project="p", name="n", status="finished", started_at=1.7e9, updated_at=1.7e9 + 10,
    ended_at=1.7e9 + 10, duration_s=10.0, energy_j=3600.0, energy_uncertainty_rel=0.05, attribution="process",
    hostname="h", username="u", pid=42, wattprint_version="0.1", command="python x.py", exit_code=0,
    config_fingerprint="f" * 64, hardware=({"component": "gpu", "name": "A100"},), notes=("note",), location="DE",
    how_located="argument", intensity_g_per_kwh=300.0, intensity_zone="DE", intensity_source="Ember",
    intensity_year=2024, intensity_kind="average", intensity_uncertainty_rel=0.1, pue=1.5, facility_energy_j=5400.0,
    emissions_g=0.45, emissions_uncertainty_rel=0.11, water_l=0.002, embodied_g=1.0,
    extra=EXTRA,
)
REQUEST = RequestRecord("req-1", "a" * 32, 1.7e9, 0.25, 12.0, "sampled", 0.08, "/v1/generate", 20, 200, None, 0.001,
                        time_to_first_token_s=0.05, prefill_energy_j=2.0, decode_energy_j=10.0, sharing="tokens")
REQUEST_INTERVAL = RequestIntervalRecord(
    bucket=-1, endpoint="POST /v1/generate", start_offset_s=5.0, end_offset_s=65.0, requests=12, energy_j=144.0,
    method="sampled", uncertainty_rel=0.08, sharing="mixed", latency_s=3.0, tokens_in=240, tokens_out=2400,
    tokens_out_energy_j=140.0, items=3, items_energy_j=4.0, prefill_tokens=200, prefill_energy_j=20.0,
    decode_tokens=2000, decode_energy_j=100.0, first_token_requests=10, time_to_first_token_s=0.5,
    idle_energy_j=7.0, idle_s=2.0, latency_hist=((-6, 12),), energy_hist=((10, 11), (11, 1)), concurrency=4,
)
INTERVAL = IntervalRecord(3, 10.0, 20.0, "cpu", "package-0", 100.0, 10.0, "counter", 0.05, 0.01, 300.0)
TASK = TaskRecord(1, "epoch-1", 1.7e9, 5.0, 1800.0, 0.05, "sampled", (COMPONENT,))
SAMPLES: dict[type, Any] = {
    RunRecord: RUN,
    ComponentRecord: COMPONENT,
    IntervalRecord: INTERVAL,
    TaskRecord: TASK,
    IntensityRecord: RUN.intensity_record,
    PredictionRecord: PREDICTION,
    BudgetRecord: BUDGET,
    FingerprintRecord: EXTRA.fingerprint,
    TimeResolvedRecord: TIME_RESOLVED,
    GroupRecord: GROUP,
    RunExtra: EXTRA,
    RequestRecord: REQUEST,
    RequestIntervalRecord: REQUEST_INTERVAL,
    RunDocument: RunDocument(RUN, (COMPONENT,), (INTERVAL,), (TASK,), (REQUEST,), schema_version=2,
                             request_intervals=(REQUEST_INTERVAL,)),
}
