"""One measurement of one tool, run by ``bench_peers.py`` in a fresh interpreter of that tool's virtual environment.

    python _peers_child.py MEASURE VARIANT RESULT_JSON [KEY=VALUE ...]

Standard library only, and nothing beyond ``os``, ``sys`` and ``time`` imported before the figures start: what a
tool imports is part of its cost. The result goes to a file, not standard output, because some tools print their
reports there.
"""

from __future__ import annotations

import os
import sys
import time

# -- the tools, at their documented entry points ---------------------------------------------------------------

VARIANTS = ("wattprint", "wattprint-off", "codecarbon", "codecarbon-1s", "carbontracker", "candidate")


def load(variant: str) -> object:
    """Import the tracker class as a user's script does."""
    if variant.startswith("wattprint") or variant == "candidate":
        from wattprint import Tracker

        return Tracker
    if variant.startswith("codecarbon"):
        from codecarbon import OfflineEmissionsTracker

        return OfflineEmissionsTracker
    if variant == "carbontracker":
        from carbontracker.tracker import CarbonTracker

        return CarbonTracker
    raise SystemExit(f"unknown variant {variant!r}")


def begin(variant: str, cls: object, workdir: str) -> object:
    """Construct the tracker and start measuring, offline, at the tool's defaults unless the variant says otherwise."""
    if variant in ("wattprint", "candidate"):
        return cls().start()  # type: ignore[operator]
    if variant == "wattprint-off":
        return cls(store="off").start()  # type: ignore[operator]
    if variant.startswith("codecarbon"):
        kwargs = {"measure_power_secs": 1} if variant == "codecarbon-1s" else {}
        tracker = cls(country_iso_code="FRA", output_dir=workdir, log_level="error", **kwargs)  # type: ignore[operator]
        tracker.start()
        return tracker
    if variant == "carbontracker":
        # No API keys: its default intensity (a location looked up over the network, else the world average).
        tracker = cls(epochs=1)  # type: ignore[operator]
        tracker.epoch_start()
        return tracker
    raise SystemExit(f"unknown variant {variant!r}")


def end(variant: str, tracker: object) -> None:
    """Stop measuring and produce the tool's result (a run's end: Carbontracker's single epoch ends)."""
    if variant == "carbontracker":
        tracker.epoch_end()  # type: ignore[attr-defined]
    else:
        tracker.stop()  # type: ignore[attr-defined]


# -- measuring helpers -----------------------------------------------------------------------------------------


def status_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def work(n: int) -> int:
    """The CPU-bound pure-Python loop whose slowdown is measured."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


# -- measurements ----------------------------------------------------------------------------------------------


def measure_startstop(variant: str, params: dict) -> dict:
    rss0 = status_kb("VmRSS")
    t0 = time.perf_counter()
    cls = load(variant)
    t1 = time.perf_counter()
    tracker = begin(variant, cls, params["workdir"])
    t2 = time.perf_counter()
    rss1 = status_kb("VmRSS")
    time.sleep(float(params.get("run_s", 1.0)))
    t3 = time.perf_counter()
    end(variant, tracker)
    t4 = time.perf_counter()
    return {
        "import_class_ms": (t1 - t0) * 1e3,
        "start_ms": (t2 - t1) * 1e3,
        "stop_ms": (t4 - t3) * 1e3,
        "rss_after_start_kb": rss1 - rss0,
        "threads_running": _threads(),
    }


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def measure_idle(variant: str, params: dict) -> dict:
    idle_s = float(params["idle_s"])
    rss0 = status_kb("VmRSS")
    tracker = begin(variant, load(variant), params["workdir"])
    rss1 = status_kb("VmRSS")
    threads = _threads()
    c0, w0 = time.process_time(), time.monotonic()
    time.sleep(idle_s / 2)
    c1, w1 = time.process_time(), time.monotonic()
    time.sleep(idle_s / 2)
    c2, w2 = time.process_time(), time.monotonic()
    rss2 = status_kb("VmRSS")
    end(variant, tracker)
    return {
        "cpu_share_pct": (c2 - c0) / (w2 - w0) * 100,
        "cpu_share_second_half_pct": (c2 - c1) / (w2 - w1) * 100,
        "rss_after_start_kb": rss1 - rss0,
        "rss_running_kb": rss2 - rss0,
        "peak_rss_kb": status_kb("VmHWM"),
        "threads_running": threads,
    }


CONTROL_IMPORTS = "decimal, email.message, http.client, getpass"
"""What the ``control`` loop imports (no tracker): standard-library modules unrelated to measuring, which show how
much this loop's speed moves with nothing but the process's layout changing."""


def _threads_cpu_ns() -> dict[int, int]:
    """CPU time of every thread of this process but the main one (``/proc/self/task/*/schedstat``)."""
    found = {}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) == os.getpid():
            continue
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as handle:
                found[int(tid)] = int(handle.read().split()[0])
        except (OSError, ValueError):
            pass
    return found


def measure_loop(variant: str, params: dict) -> dict:
    n = int(params["n"])
    tracker = None
    if variant == "control":
        import importlib

        for name in CONTROL_IMPORTS.split(", "):
            importlib.import_module(name)
    elif variant != "none":
        tracker = begin(variant, load(variant), params["workdir"])
    before = _threads_cpu_ns()
    t0 = time.perf_counter()
    c0 = time.thread_time()
    work(n)
    c1 = time.thread_time()
    t1 = time.perf_counter()
    after = _threads_cpu_ns()
    if tracker is not None:
        end(variant, tracker)
    background_ns = sum(v - before.get(tid, 0) for tid, v in after.items())
    return {"loop_s": t1 - t0, "loop_thread_cpu_s": c1 - c0, "background_cpu_s": background_ns / 1e9}


def measure_calibrate(variant: str, params: dict) -> dict:
    n = int(params["n"])
    t0 = time.perf_counter()
    work(n)
    return {"loop_s": time.perf_counter() - t0}


def measure_costs(variant: str, params: dict) -> dict:
    """wattprint alone: one task window, opening the store, and one flush of a running run to SQLite."""
    import wattprint
    from wattprint import store as stores

    path = params["store_path"]  # made by another process, so that this one opens it cold
    figures: dict = {}
    writer = None
    if hasattr(stores, "open_writer"):  # the standard-library writer, when this version has it
        a = time.perf_counter()
        writer = stores.open_writer(path)
        figures["open_writer_ms"] = (time.perf_counter() - a) * 1e3
        figures["writer_kind"] = type(writer).__name__
    a = time.perf_counter()
    store = stores.open_store(path)
    figures["open_store_ms"] = (time.perf_counter() - a) * 1e3

    window_us = []
    with wattprint.track(store="off") as run:
        for _ in range(5):
            n = 20_000
            a = time.perf_counter()
            for _ in range(n):
                with run.task("w"):
                    pass
            window_us.append((time.perf_counter() - a) / n * 1e6)
    figures["task_window_us"] = sorted(window_us)[len(window_us) // 2]

    # A run as the writer thread flushes it: its totals, the interval bucket that changed, and the task windows
    # that ended since the last flush. Periodic flushes are turned off so that only this loop writes.
    tracker = wattprint.Tracker(store=path, flush_interval_s=3600).start()
    recorder = tracker._recorder
    savers = [("runstore", store.save)] + ([("writer", writer.save)] if writer is not None else [])
    timings: dict[str, list[float]] = {"build": []}
    timings.update({name: [] for name, _ in savers})
    first_save_ms = None
    for flush in range(int(params.get("flushes", 40))):
        for epoch in range(10):
            with tracker.task(f"step-{flush}-{epoch}"):
                pass
        time.sleep(0.01)
        a = time.perf_counter()
        payload = recorder.periodic()
        timings["build"].append((time.perf_counter() - a) * 1e3)
        records = (payload.run, payload.components, payload.intervals, payload.tasks)
        for name, save in (savers if flush % 2 else savers[::-1]):  # each saves the same records, in turn first
            a = time.perf_counter()
            save(*records)
            taken = (time.perf_counter() - a) * 1e3
            if flush == 0 and first_save_ms is None:
                first_save_ms = taken  # the run's first write: inserts rather than updates
            elif flush > 0:
                timings[name].append(taken)
    tracker.stop()
    tracker.wait_saved()
    for name, values in timings.items():
        values.sort()
        figures[f"flush_{name}_ms"] = values[len(values) // 2]
    figures["first_save_ms"] = first_save_ms
    figures["flush_records"] = {
        "components": len(payload.components), "intervals": len(payload.intervals), "tasks": len(payload.tasks)
    }
    return figures


def measure_makestore(variant: str, params: dict) -> dict:
    from wattprint.store import open_store

    open_store(params["store_path"]).close()
    return {}


def measure_profile(variant: str, params: dict) -> dict:
    """pyinstrument profiles of wattprint's cold import + construct + start, and of its first stop: a call tree with
    wattprint's own frames shown, and the functions with the most self time."""
    from pyinstrument import Profiler

    options = {"show_regex": r".*[/\\]wattprint[/\\].*", "filter_threshold": 0.02}

    def texts(profiler: Profiler) -> dict:
        return {
            "tree": profiler.output_text(unicode=False, color=False, processor_options=options),
            "flat": profiler.output_text(unicode=False, color=False, flat=True, show_all=True),
        }

    profiles = {}
    profiler = Profiler(interval=0.0002)
    profiler.start()
    cls = load(variant)
    tracker = begin(variant, cls, params["workdir"])
    profiler.stop()
    profiles["import_and_start"] = texts(profiler)
    time.sleep(1.0)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    end(variant, tracker)
    profiler.stop()
    profiles["stop"] = texts(profiler)
    return profiles


MEASURES = {
    "startstop": measure_startstop,
    "idle": measure_idle,
    "loop": measure_loop,
    "calibrate": measure_calibrate,
    "costs": measure_costs,
    "makestore": measure_makestore,
    "profile": measure_profile,
}


def main() -> None:
    measure, variant, out = sys.argv[1:4]
    params = dict(arg.split("=", 1) for arg in sys.argv[4:])
    params.setdefault("workdir", os.getcwd())
    figures = MEASURES[measure](variant, params)
    import json

    text = json.dumps(figures)
    with open(out, "w") as handle:
        handle.write(text)
        handle.flush()
    figures_done = time.monotonic()  # what follows is the interpreter's exit: atexit hooks, threads, finalising
    with open(out + ".done", "w") as handle:
        handle.write(repr(figures_done))


if __name__ == "__main__":
    main()
