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

from tests.fakes.wire_samples import PREDICTION, RUN, SAMPLES
from wattprint.api.records import (
    RECORDS,
    ComponentRecord,
    IntervalRecord,
    PredictionRecord,
    RunExtra,
    RunRecord,
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


# -- one sample of every record (tests/fakes/wire_samples.py) -----------------------------------------------------


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
