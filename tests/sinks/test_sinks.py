"""The writer thread fans every payload out to the store and to every attached sink; a sink that fails is logged
once and stops neither the others nor the job. Sinks come from the registry: registered in a test, or from an
entry point of an installed package (a broken one is logged, not raised)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint import sinks
from wattprint.core.errors import ConfigError
from wattprint.store import open_store


class JsonLines:
    """A real second sink: one JSON line per payload, appended to a file."""

    name = "test-jsonl"

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: Any = None
        self.opened = self.closed = 0

    def open(self) -> None:
        self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.opened += 1

    def write(self, payload: Any) -> None:
        line = {"run_id": payload.run.run_id, "status": payload.run.status, "updated_at": payload.run.updated_at,
                "energy_j": payload.run.energy_j, "tasks": [t.name for t in payload.tasks],
                "interval_j": sum(i.energy_j for i in payload.intervals)}
        self.handle.write(json.dumps(line) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()
        self.handle = None
        self.closed += 1


class Failing:
    """A sink whose every write raises."""

    name = "test-failing"

    def __init__(self) -> None:
        self.writes = 0

    def open(self) -> None:
        pass

    def write(self, payload: Any) -> None:
        self.writes += 1
        raise RuntimeError("the failing sink failed on purpose")

    def close(self) -> None:
        pass


class Unopenable(Failing):
    """A sink that cannot be opened: it is never written to."""

    name = "test-unopenable"

    def open(self) -> None:
        raise OSError("nothing to connect to")


@pytest.fixture
def registered() -> Any:
    for cls in (JsonLines, Failing, Unopenable):
        sinks.register(cls)
    yield
    for cls in (JsonLines, Failing, Unopenable):
        sinks.unregister(cls.name)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_payload_reaches_every_sink_and_a_failing_one_stops_nothing(
    tmp_path: Path, no_rapl: str, registered: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wattprint")
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    failing, unopenable = sinks.make_sink("test-failing"), sinks.make_sink("test-unopenable")
    jsonl = sinks.make_sink("test-jsonl", path=str(tmp_path / "runs.jsonl"))
    assert isinstance(jsonl, JsonLines) and isinstance(failing, Failing)
    for sink in (failing, unopenable, jsonl):  # the failing ones first: the one after them is written all the same
        assert sinks.attach(sink) is sink
    try:
        with wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=100.0)]), powercap_root=no_rapl, store=url,
                               flush_interval_s=0.1) as run:
            for i in range(3):
                with run.task(f"epoch-{i}"):
                    time.sleep(0.15)
        assert run.wait_saved(timeout=30)
    finally:
        for sink in (failing, unopenable, jsonl):
            sinks.detach(sink)
    result = run.result
    assert result is not None and result.energy_j > 0
    with open_store(url) as store:  # the store has the whole run, as without the other sinks
        assert store.run(result.run_id).status == "finished"
        assert [t.name for t in store.tasks(result.run_id)] == ["epoch-0", "epoch-1", "epoch-2"]
    written = lines(tmp_path / "runs.jsonl")
    assert len(written) >= 3 and {w["run_id"] for w in written} == {result.run_id}
    assert [w["updated_at"] for w in written] == sorted(w["updated_at"] for w in written)  # in the order made
    assert written[-1]["status"] == "finished" and written[-1]["energy_j"] == pytest.approx(result.energy_j)
    assert [name for w in written for name in w["tasks"]] == ["epoch-0", "epoch-1", "epoch-2"]
    assert (jsonl.opened, jsonl.closed, jsonl.handle) == (1, 1, None)  # closed when detached
    assert failing.writes == len(written) and unopenable.writes == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("test-failing sink could not write" in m for m in messages) == 1  # once, not once per payload
    assert sum("test-unopenable sink could not be opened" in m for m in messages) == 1
    assert any("failed on purpose" in m for m in messages) and any("nothing to connect to" in m for m in messages)


def test_wattprints_own_sinks_are_made_by_name_in_a_fresh_process() -> None:
    """The team server's sink is built in; the exporters (a layer above) come as this package's entry points: each
    is made by name with none of its modules imported first, and importing one (it registers itself) is no clash."""
    code = (
        "from wattprint import sinks\n"
        "names = sinks.sink_names()\n"
        "assert {'server', 'prometheus', 'opentelemetry', 'mlflow', 'csv-log'} <= set(names), names\n"
        "import wattprint.exporters.prometheus, wattprint.sinks.server\n"
        "print(sinks.sink_class('server').__name__, sinks.sink_class('prometheus').__name__,\n"
        "      sinks.sink_class('csv-log').__name__, sinks.REGISTRY.problems())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ServerSink", "PrometheusSink", "CsvLogSink", "()"]
    assert "skipped" not in done.stderr


def test_the_registry_names_its_sinks_and_refuses_what_is_not_one(registered: None) -> None:
    assert {"test-jsonl", "test-failing", "test-unopenable"} <= set(sinks.sink_names())
    assert sinks.sink_class("test-jsonl") is JsonLines
    with pytest.raises(ConfigError, match="sink 'nowhere' is not known; known sinks: .*test-jsonl"):
        sinks.make_sink("nowhere")
    with pytest.raises(TypeError, match="open, write and close"):
        sinks.register(type("Nameless", (), {"open": print, "write": print, "close": print}))
    with pytest.raises(TypeError, match="open, write and close"):
        sinks.attach(object())  # a plain object has none of them
    sinks.unregister("test-jsonl")
    assert "test-jsonl" not in sinks.sink_names()


PLUGIN = '''
import json


class JsonLines:
    name = "plugin-jsonl"

    def __init__(self, path):
        self.path = path

    def open(self):
        self.handle = open(self.path, "a")

    def write(self, payload):
        self.handle.write(json.dumps([payload.run.run_id, payload.run.status]) + "\\n")

    def close(self):
        self.handle.close()
'''

CHILD = """
import sys, wattprint
from wattprint import sinks
from wattprint.core.errors import ConfigError
try:
    sinks.make_sink("broken")
except ConfigError as error:
    print("refused:", error, file=sys.stderr)
sinks.attach(sinks.make_sink("plugin-jsonl", path=sys.argv[1]))
with wattprint.track(store=sys.argv[2], gpus=False, powercap_root=sys.argv[3]) as run:
    pass
print(run.run_id)
"""


def test_an_entry_point_adds_a_sink_closed_at_exit_and_a_broken_one_is_logged(tmp_path: Path, no_rapl: str) -> None:
    site = tmp_path / "site"
    info = site / "wattprint_jsonl-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wattprint-jsonl\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[wattprint.sinks]\nplugin-jsonl = wattprint_jsonl:JsonLines\nbroken = wattprint_broken:Sink\n")
    (site / "wattprint_jsonl.py").write_text(PLUGIN)
    (site / "wattprint_broken.py").write_text("raise RuntimeError('the plug-in is broken')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "plugin.jsonl"
    done = subprocess.run([sys.executable, "-c", CHILD, str(out), str(tmp_path / "runs.sqlite"), no_rapl], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("'broken'") >= 1 and "the plug-in is broken" in done.stderr
    assert "refused: sink 'broken' is not known" in done.stderr
    rid = done.stdout.strip()
    written = [json.loads(line) for line in out.read_text().splitlines()]  # flushed: the sink was closed at exit
    assert written and written[-1] == [rid, "finished"]


def test_a_forked_child_writes_to_the_sinks_its_parent_attached(tmp_path: Path, no_rapl: str, registered: None) -> None:
    jsonl = sinks.attach(sinks.make_sink("test-jsonl", path=str(tmp_path / "runs.jsonl")))
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    try:
        pid = os.fork()
        if pid == 0:  # the child: its own writer thread opens the parent's sink anew
            status = 1
            try:
                with wattprint.track(store=url, gpus=False, powercap_root=no_rapl) as run:
                    pass
                status = 0 if run.wait_saved(timeout=30) else 2
                sys.stdout.flush()
            finally:
                os._exit(status)
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        sinks.detach(jsonl)
    written = lines(tmp_path / "runs.jsonl")
    with open_store(url) as store:
        rid = store.run("last").run_id
    assert written and {w["run_id"] for w in written} == {rid} and written[-1]["status"] == "finished"
