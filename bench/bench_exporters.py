"""What the exporters cost: a Prometheus scrape, an OpenTelemetry collection, and one flush of each sink, for a
run of N devices; and the machine agent's scrape and its CPU share. Prints figures (median and 95th percentile
over many repetitions); asserts nothing.

    python bench/bench_exporters.py [--devices 16] [--repeat 500] [--agent-seconds 60] [--skip-mlflow] [--skip-wandb]

The payloads are built as the recorder builds them (a RunRecord and one ComponentRecord per device) and handed to
each sink as the writer thread does, so the figures are those of the exporters alone, without a meter: the
scrape reads the sink's folded figures and renders them, the flush folds one payload in (and, for the textfile,
rewrites the file; for MLflow, the writer thread only queues: the batch is logged from the sink's own thread,
timed separately against a local SQLite tracking store; W&B likewise, in offline mode).

The agent: its scrape renders a reading of N devices and the top 10 process trees; its CPU share is that of a real
``wattprint agent`` process over ``--agent-seconds`` at its default interval (after a 5 s warm-up), read from
/proc, with and without ``--top 10``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from wattprint.api.records import ComponentRecord, RunRecord
from wattprint.sinks.payload import Payload, origin


def payloads(devices: int, count: int) -> list[Payload]:
    """``count`` successive payloads of one run on ``devices`` devices (half GPUs), 10 s apart, priced in FR."""
    started = time.time()
    made = []
    for flush in range(count):
        duration_s = 10.0 * (flush + 1)
        components = tuple(
            ComponentRecord("gpu" if d % 2 else "cpu", f"gpu:{d // 2}" if d % 2 else f"package-{d // 2}",
                            (300.0 if d % 2 else 100.0) * duration_s, 300.0 if d % 2 else 100.0,
                            "counter", 0.05)
            for d in range(devices)
        )
        energy_j = sum(c.energy_j for c in components)
        run = RunRecord(run_id="b" * 32, project="bench", name="train", status="running", started_at=started,
                        updated_at=started + duration_s, ended_at=None, duration_s=duration_s, energy_j=energy_j,
                        energy_uncertainty_rel=0.05, attribution="machine", **origin(), location="FR",
                        intensity_g_per_kwh=56.0, intensity_zone="FR", intensity_source="bench", pue=1.1,
                        emissions_g=energy_j * 1.1 * 56.0 / 3.6e6, emissions_uncertainty_rel=0.2)
        made.append(Payload(run, components, [], []))
    return made


def timed(what: str, function: Callable[[], object], repeat: int) -> None:
    function()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print(f"  {what:<58} median {statistics.median(samples) * 1e3:8.3f} ms   p95 {p95 * 1e3:8.3f} ms")


def cycle(items: list[Payload]) -> Callable[[], Payload]:
    index = [0]

    def following() -> Payload:
        index[0] = (index[0] + 1) % len(items)
        return items[index[0]]

    return following


def bench_prometheus(flushes: list[Payload], repeat: int, directory: Path) -> None:
    import httpx
    from prometheus_client import generate_latest

    from wattprint.exporters import prometheus

    print("Prometheus")
    sink = prometheus.PrometheusSink()
    for payload in flushes:
        sink.write(payload)
    timed("scrape, rendered in process (generate_latest)", lambda: generate_latest(sink.registry), repeat)
    with prometheus.start_http_server(0, sink=sink) as server, httpx.Client() as client:
        timed("scrape over HTTP on 127.0.0.1 (request to parsed body)", lambda: client.get(server.url).text, repeat)
        size = len(client.get(server.url).content)
    print(f"  exposition size: {size} bytes")
    following = cycle(flushes)
    timed("flush: PrometheusSink.write (fold one payload)", lambda: sink.write(following()), repeat)
    textfile = prometheus.TextfileSink(directory / "wattprint.prom")
    textfile.open()
    timed("flush: TextfileSink.write (fold + rewrite the .prom file)", lambda: textfile.write(following()), repeat)
    with _Pushgateway() as url:
        push = prometheus.PushgatewaySink(url)
        push.open()
        assert push._sender is not None
        sender = push._sender
        timed("flush: PushgatewaySink.write in the writer thread (queue)", lambda: push.write(following()), repeat)
        sender.drain()
        timed("flush: one push to a Pushgateway on 127.0.0.1, end to end",
              lambda: (push.write(following()), sender.drain()), max(20, repeat // 5))
        push.close()


class _Pushgateway:
    """A stand-in Pushgateway on 127.0.0.1 that takes each push and answers 200 (the real one is not installable
    here): it times the client's side of a push, not the Pushgateway's."""

    def __enter__(self) -> str:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_csvlog(flushes: list[Payload], repeat: int, directory: Path) -> None:
    from dataclasses import replace

    from wattprint.exporters.csvlog import CsvLogSink

    print("CSV log")
    sink = CsvLogSink(directory / "emissions.csv")
    sink.open()
    following = cycle(flushes)
    timed("flush of a running run: CsvLogSink.write (nothing to write)", lambda: sink.write(following()), repeat)
    ended = [Payload(replace(p.run, status="finished", run_id=f"{i:032x}"), p.components, [], [])
             for i, p in enumerate(flushes * (repeat // len(flushes) + 2))]
    index = iter(ended)
    timed("a run's end: CsvLogSink.write (one row appended)", lambda: sink.write(next(index)), repeat)


def bench_opentelemetry(flushes: list[Payload], repeat: int) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from wattprint.exporters.opentelemetry import OpenTelemetrySink

    print("OpenTelemetry")
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    sink = OpenTelemetrySink(provider)
    for payload in flushes:
        sink.write(payload)
    timed("collection by the SDK's reader (5 instruments)", reader.get_metrics_data, repeat)
    following = cycle(flushes)
    timed("flush: OpenTelemetrySink.write (fold one payload)", lambda: sink.write(following()), repeat)
    provider.shutdown()


def bench_mlflow(flushes: list[Payload], repeat: int, directory: Path) -> None:
    from mlflow.tracking import MlflowClient

    from wattprint.exporters.mlflow import MlflowSink

    print("MLflow (local SQLite tracking store)")
    uri = f"sqlite:///{directory / 'mlflow.sqlite'}"
    client = MlflowClient(uri)
    run_id = client.create_run("0").info.run_id
    sink = MlflowSink(run_id, tracking_uri=uri)
    sink.open()
    following = cycle(flushes)
    assert sink._sender is not None
    sender = sink._sender
    timed("flush: MlflowSink.write in the writer thread (fold + queue)", lambda: sink.write(following()), repeat)
    sender.drain()
    timed("flush: one log_batch, end to end in the sink's thread",
          lambda: (sink.write(following()), sender.drain()), max(20, repeat // 10))
    sink.close()


def bench_wandb(flushes: list[Payload], repeat: int, directory: Path) -> None:
    import os

    os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(directory), WANDB_SILENT="true")
    import wandb

    from wattprint.exporters.wandb import WandbSink

    print("Weights & Biases (offline run)")
    run = wandb.init(project="bench", settings=wandb.Settings(console="off"))
    sink = WandbSink(run)
    sink.open()
    following = cycle(flushes)
    assert sink._sender is not None
    sender = sink._sender
    timed("flush: WandbSink.write in the writer thread (fold + queue)", lambda: sink.write(following()), repeat)
    sender.drain()
    timed("flush: one log + summary, end to end in the sink's thread",
          lambda: (sink.write(following()), sender.drain()), max(20, repeat // 10))
    sink.close()
    run.finish()


class _Fixed:
    """An agent whose latest reading is fixed: what a scrape renders, without measuring."""

    def __init__(self, reading: object) -> None:
        self.reading = reading

    def latest(self) -> object:
        return self.reading


def agent_reading(devices: int, trees: int = 10) -> object:
    from wattprint.run.agent import DeviceReading, Reading, UnitReading

    return Reading(
        t=time.time(), interval_s=5.0, duration_s=3600.0,
        devices=tuple(DeviceReading("gpu" if d % 2 else "cpu", f"gpu:{d // 2}" if d % 2 else f"package-{d // 2}",
                                    "counter", 3.6e5, 100.0, 0.05) for d in range(devices)),
        units=tuple(UnitReading("process", str(1000 + t), f"job-{t}", component, 1e4, 10.0)
                    for t in range(trees) for component in ("cpu", "ram")),
        emissions_g=20.0, emissions_uncertainty_rel=0.2, intensity_g_per_kwh=56.0, intensity_zone="FR",
        intensity_source="bench", hostname="bench")


def bench_agent(devices: int, repeat: int, seconds: float) -> None:
    import os
    import subprocess
    import sys

    import httpx
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.registry import Collector

    from wattprint.run.agent_metrics import families, serve

    print(f"wattprint agent ({devices} devices, top 10 process trees)")
    reading = agent_reading(devices)

    class Fixed(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            return iter(families(reading))  # type: ignore[arg-type]

    registry = CollectorRegistry()
    registry.register(Fixed())
    timed("scrape rendered in the process (generate_latest)", lambda: generate_latest(registry), repeat)
    server = serve(_Fixed(reading), 0)  # type: ignore[arg-type]
    with httpx.Client() as client:
        timed("scrape over HTTP on 127.0.0.1, client included", lambda: client.get(server.url), max(50, repeat // 5))
    server.close()
    tick = os.sysconf("SC_CLK_TCK")
    wattprint = str(Path(sys.executable).with_name("wattprint"))
    for options in ((), ("--top", "10")):
        agent = subprocess.Popen([wattprint, "agent", "--port", "0", *options], stderr=subprocess.DEVNULL)
        try:
            time.sleep(5.0)  # started, first readings taken

            def cpu_s(pid: int = agent.pid) -> float:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

            start_cpu, start = cpu_s(), time.monotonic()
            time.sleep(seconds)
            share = (cpu_s() - start_cpu) / (time.monotonic() - start)
            what = "agent's CPU, default interval" + (" with " + " ".join(options) if options else "")
            print(f"  {what:<58} {share * 100:8.3f} % of a core over {seconds:g} s")
        finally:
            agent.terminate()
            agent.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--skip-mlflow", action="store_true", help="MLflow's store takes seconds to create")
    parser.add_argument("--skip-wandb", action="store_true", help="W&B's service takes seconds to start")
    parser.add_argument("--agent-seconds", type=float, default=60.0, help="how long the agent's CPU is measured")
    options = parser.parse_args()
    flushes = payloads(options.devices, 50)
    print(f"{options.devices} devices, {options.repeat} repetitions")
    with tempfile.TemporaryDirectory() as directory:
        bench_prometheus(flushes, options.repeat, Path(directory))
        bench_opentelemetry(flushes, options.repeat)
        bench_csvlog(flushes, options.repeat, Path(directory))
        if not options.skip_mlflow:
            bench_mlflow(flushes, options.repeat, Path(directory))
        if not options.skip_wandb:
            bench_wandb(flushes, options.repeat, Path(directory))
        bench_agent(options.devices, options.repeat, options.agent_seconds)


if __name__ == "__main__":
    main()
