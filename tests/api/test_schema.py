"""The wire format: one codec for every record, the committed JSON Schema generated from the records, and the
unit in every quantity's name."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from wattprint.api.records import (
    RECORDS,
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
from wattprint.core.codec import from_dict, to_dict

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "build_schema.py"


def build_module() -> Any:
    spec = importlib.util.spec_from_file_location("build_schema", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed_schema() -> dict[str, Any]:
    return json.loads((REPO / "src" / "wattprint" / "api" / "schema" / "records.schema.json").read_text())


# -- one sample of every record, every field set to something other than its default -----------------------------

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


def test_every_record_has_a_sample_with_no_default_left() -> None:
    assert set(SAMPLES) == set(RECORDS)
    for cls, sample in SAMPLES.items():
        defaults = [f.name for f in dataclasses.fields(cls)
                    if f.default is not dataclasses.MISSING and getattr(sample, f.name) == f.default
                    and f.name != "items"]
        assert not defaults, (cls.__name__, defaults)


# -- the committed schema ------------------------------------------------------------------------------------------


def test_the_committed_schema_is_what_the_records_generate() -> None:
    pytest.importorskip("pydantic")
    generated = build_module().build()
    committed = (REPO / "src" / "wattprint" / "api" / "schema" / "records.schema.json").read_text()
    assert generated == committed, "the wire format changed: run python scripts/build_schema.py and commit it"


def test_the_schema_defines_every_record_and_its_version() -> None:
    from wattprint.api.records import WIRE_VERSION

    schema = committed_schema()
    assert schema["version"] == WIRE_VERSION and f"/v{WIRE_VERSION}/" in schema["$id"]
    for cls in RECORDS:
        properties = schema["$defs"][cls.__name__]["properties"]
        expected = [f.name for f in dataclasses.fields(cls)] + list(getattr(cls, "__wire_derived__", ()))
        assert list(properties) == expected, cls.__name__


# -- round trips through the codec, checked against the schema ---------------------------------------------------


def _validate(schema: dict[str, Any], value: Any, root: dict[str, Any], where: str = "$") -> None:
    """The JSON Schema keywords the generated schema uses (a small validator: no third-party one is a dependency)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _validate(option, value, root, where)
                break
            except AssertionError as error:
                errors.append(str(error))
        else:
            raise AssertionError(f"{where}: no option fits: {errors}")
        return
    kind = schema.get("type")
    checks = {"null": value is None, "boolean": isinstance(value, bool), "string": isinstance(value, str),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, (int, float)) and not isinstance(value, bool),
              "array": isinstance(value, list), "object": isinstance(value, dict)}
    if kind is not None:
        assert checks[kind], f"{where}: {value!r} is not {kind}"
    if kind == "object":
        for name in schema.get("required", ()):
            assert name in value, f"{where}: {name} missing"
        for name, item in value.items():
            if name in schema.get("properties", {}):
                _validate(schema["properties"][name], item, root, f"{where}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                _validate(schema["additionalProperties"], item, root, f"{where}.{name}")
    if kind == "array":
        prefix = schema.get("prefixItems")
        if prefix is not None:
            assert len(value) == len(prefix), f"{where}: {len(value)} items, {len(prefix)} expected"
            for index, (item_schema, item) in enumerate(zip(prefix, value, strict=True)):
                _validate(item_schema, item, root, f"{where}[{index}]")
        elif "items" in schema:
            for index, item in enumerate(value):
                _validate(schema["items"], item, root, f"{where}[{index}]")


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_every_record_round_trips_through_json_and_fits_the_schema(cls: type) -> None:
    sample = SAMPLES[cls]
    data = json.loads(json.dumps(to_dict(sample)))
    assert from_dict(cls, data) == sample
    schema = committed_schema()
    _validate(schema["$defs"][cls.__name__], data, schema)
    if cls is RunRecord:  # the extra column holds a RunExtra
        _validate(schema["$defs"]["RunExtra"], data["extra"], schema)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_pydantic_reads_the_codecs_json_as_the_same_record(cls: type) -> None:
    """The schema comes from pydantic's reading of the records: it must read what the codec writes identically."""
    pydantic = pytest.importorskip("pydantic")
    sample = SAMPLES[cls]
    assert pydantic.TypeAdapter(cls).validate_json(json.dumps(to_dict(sample))) == sample


def test_a_wrong_value_does_not_fit_the_schema() -> None:
    schema = committed_schema()
    data = to_dict(SAMPLES[IntervalRecord])
    with pytest.raises(AssertionError, match="energy_j"):
        _validate(schema["$defs"]["IntervalRecord"], {**data, "energy_j": "a lot"}, schema)
    with pytest.raises(AssertionError, match="bucket missing"):
        _validate(schema["$defs"]["IntervalRecord"], {k: v for k, v in data.items() if k != "bucket"}, schema)


# -- names -------------------------------------------------------------------------------------------------------

UNIT_SUFFIX = re.compile(r"_(j|kwh|w|s|g|l|rel|share|g_per_kwh|l_per_kwh|low|high)$")
"""How a quantity's name ends: its unit (``_low``/``_high`` follow a name that has one: ``energy_kwh_low``)."""
NOT_QUANTITIES = {
    "pue": "a ratio of energies, named as everywhere in the field",
    "level": "the coverage of a prediction interval, a probability",
    "coverage": "a share of the energy, dimensionless",
    "started_at": "a Unix time, like every *_at",
    "updated_at": "a Unix time",
    "ended_at": "a Unix time",
    "made_at": "a Unix time",
}


def _is_quantity(hint: Any) -> bool:
    args = typing.get_args(hint)
    return hint is float or (float in args and len([a for a in args if a is not type(None)]) == 1)


def test_every_quantity_carries_its_unit_in_its_name() -> None:
    for cls in RECORDS:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if _is_quantity(hints[f.name]) and f.name not in NOT_QUANTITIES:
                assert UNIT_SUFFIX.search(f.name), f"{cls.__name__}.{f.name} is a quantity without a unit"
        for name in getattr(cls, "__wire_derived__", ()):
            assert name.startswith("after_"), name  # counts of units, not quantities


# -- the codec ---------------------------------------------------------------------------------------------------


def test_the_codec_ignores_keys_it_does_not_know_and_fills_defaults() -> None:
    data = {**to_dict(SAMPLES[IntervalRecord]), "added_by_a_newer_writer": 1}
    del data["emissions_g"]
    assert from_dict(IntervalRecord, data) == dataclasses.replace(SAMPLES[IntervalRecord], emissions_g=None)
    with pytest.raises(TypeError, match="bucket"):
        from_dict(IntervalRecord, {k: v for k, v in data.items() if k != "bucket"})


def test_sparse_leaves_out_what_is_empty() -> None:
    assert to_dict(RunExtra(parent_run="p"), sparse=True) == {"parent_run": "p"}
    assert to_dict(RunExtra(), sparse=True) == {}


def test_a_partial_stored_extra_reads_leniently() -> None:
    """Hand-written or older predictions lack fields: read back, they are None instead of failing the run."""
    partial = {"predictions": [{"unit": "epoch", "after": 1, "total": 5, "energy_kwh": 1}]}
    details = from_dict(RunRecord, {**to_dict(RUN), "extra": partial}, lenient=True).details
    assert details.predictions[0].energy_kwh == 1.0 and details.predictions[0].made_at is None


def test_a_prediction_is_its_wire_record() -> None:
    from wattprint.predict.prediction import Prediction

    prediction = Prediction(**{f.name: getattr(PREDICTION, f.name) for f in dataclasses.fields(PredictionRecord)})
    assert prediction.to_dict() == to_dict(PREDICTION)
    assert prediction.to_dict()["after_epochs"] == 2 and prediction.to_dict()["after_steps"] is None
    assert Prediction.from_dict(prediction.to_dict()) == prediction


def test_a_stored_component_is_the_results_device_energy() -> None:
    from wattprint.core.results import DeviceEnergy

    assert ComponentRecord is DeviceEnergy
