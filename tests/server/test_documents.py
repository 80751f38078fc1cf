"""Request bodies read into records by the server's one-pass validator: the same records the codec reads, old names
included; every fault named by its path in the caller's terms; JSON's missing numbers a 400."""

from __future__ import annotations

import json

import pytest

from tests.fakes.wire_samples import SAMPLES
from wattprint.api.records import RunDocument, RunExtra
from wattprint.core.codec import from_dict, to_dict
from wattprint.server.documents import MAX_ERRORS, read_document, read_record
from wattprint.server.problems import Problem


def body(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda cls: cls.__name__)
def test_every_record_reads_back_as_the_codec_reads_it(cls: type) -> None:
    sample = SAMPLES[cls]
    data = to_dict(sample)
    got = read_record(cls, body(data), "the record")
    assert got == sample == from_dict(cls, data)
    assert type(got) is cls


def test_old_names_read_and_whole_numbers_are_numbers() -> None:
    document = to_dict(SAMPLES[RunDocument])
    extra = document["run"]["extra"]
    extra["intensity_name"] = extra.pop("intensity_zone_name")
    document["run"]["energy_j"] = 3600
    document["unknown_to_this_server"] = {"a newer": "writer"}
    got = read_document(body(document), document["run"]["run_id"])
    assert got.run.extra is not None and got.run.extra.intensity_zone_name == "Germany"
    assert got.run.energy_j == 3600.0 and type(got.run.energy_j) is float
    assert read_record(RunExtra, body({}), "x") == RunExtra()


def refusal(raw: bytes, rid: str = "a" * 32) -> Problem:
    with pytest.raises(Problem) as caught:
        read_document(raw, rid)
    return caught.value


def test_each_fault_is_named_by_its_path() -> None:
    document = to_dict(SAMPLES[RunDocument])
    document["run"]["energy_j"] = "12"
    document["run"]["duration_s"] = -1.0
    document["run"]["hardware"] = [{"ok": 1}, 5]
    document["intervals"][0]["bucket"] = 1.5
    document["intervals"][0]["energy_j"] = None
    document["tasks"][0]["components"][0]["method"] = 7
    document["run"]["extra"]["predictions"] = "soon"
    document["run"]["extra"]["time_resolved"]["timeline"][0] = [1.0, 2.0]
    document["run"].pop("status")
    problem = refusal(body(document))
    assert problem.status == 422
    said = {error.field: error.message for error in problem.errors}
    assert said == {
        "run.status": "is required",
        "run.energy_j": 'must be a number, got "12"',
        "run.duration_s": "must not be negative, got -1.0",
        "run.hardware[1]": "must be an object, got 5",
        "run.extra.predictions": 'must be an array, got "soon"',
        "run.extra.time_resolved.timeline[0]": "is too short: it has no item [2]",
        "intervals[0].bucket": "must be an integer, got 1.5",
        "intervals[0].energy_j": "must be a number, not null",
        "tasks[0].components[0].method": "must be a string, got 7",
    }
    assert "run.status: is required" in problem.detail or "(and 8 more)" in problem.detail


def test_the_run_must_be_the_one_the_url_names_with_a_known_status() -> None:
    document = to_dict(SAMPLES[RunDocument])
    problem = refusal(body(document), rid="b" * 32)
    assert [e.field for e in problem.errors] == ["run.run_id"] and "b" * 32 in problem.errors[0].message
    document["run"]["status"] = "done"
    document["run"]["run_id"] = "NOT-HEX"
    problem = refusal(body(document))
    assert [e.field for e in problem.errors] == ["run.run_id", "run.status"]


def test_at_most_a_page_of_faults_is_listed() -> None:
    document = to_dict(SAMPLES[RunDocument])
    document["intervals"] = [{"bucket": "x"}] * 50
    problem = refusal(body(document))
    assert len(problem.errors) == MAX_ERRORS and "more" in problem.detail


@pytest.mark.parametrize("raw", [b"{not json", b'{"run": NaN}', b'{"run": {"energy_j": -Infinity}}', b"\xff\xfe"])
def test_what_is_not_json_is_a_400(raw: bytes) -> None:
    problem = refusal(raw)
    assert problem.status == 400 and "not valid JSON" in problem.detail


def test_a_body_that_is_no_object_is_named_as_the_body() -> None:
    problem = refusal(b"[]")
    assert [(e.field, e.message) for e in problem.errors] == [("(body)", "must be an object, got []")]
