"""Overhead of wattprint on the code it measures. Prints figures; it asserts nothing.

    python bench/bench_overhead.py [--idle-s 30] [--repeat 15] [--json]

Each figure is taken in fresh interpreter processes where start-up matters, and as a median of repetitions.
Goals (issue "Measure"): import under 20 ms over bare Python, start+stop under 20 ms, background CPU under
0.05 % of one core at the default interval, one task window under 50 us.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time

PYTHON = sys.executable
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Children may write bytecode caches, as a pip-installed package has them."""


def compile_package() -> None:
    """Compile wattprint's modules once, as pip does at install, so start-up figures do not include compiling."""
    import compileall

    import wattprint

    compileall.compile_dir(os.path.dirname(wattprint.__file__), quiet=1)


def run_child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    out = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(code)], check=True, capture_output=True, text=True, env=CHILD_ENV
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def wall_ms(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], check=True, env=CHILD_ENV)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def import_time(repeat: int) -> dict:
    bare = wall_ms("pass", repeat)
    with_import = wall_ms("import wattprint", repeat)
    return {"bare_python_ms": bare, "import_wattprint_ms": with_import, "import_over_bare_ms": with_import - bare}


START_STOP = """
import json, time
{preload}
t0 = time.perf_counter()
import wattprint
run = wattprint.Tracker({args})
t1 = time.perf_counter()
run.start()
t2 = time.perf_counter()
run.stop()
t3 = time.perf_counter()
warm = []
for _ in range(20):
    a = time.perf_counter(); run.start(); b = time.perf_counter(); run.stop(); c = time.perf_counter()
    warm.append((b - a, c - b))
warm.sort(key=sum)
w = warm[len(warm) // 2]
print(json.dumps({{"import_and_construct_ms": (t1 - t0) * 1e3, "first_start_ms": (t2 - t1) * 1e3,
                  "first_stop_ms": (t3 - t2) * 1e3, "warm_start_ms": w[0] * 1e3, "warm_stop_ms": w[1] * 1e3}}))
"""

# What a PyTorch program has loaded before it creates a tracker: the standard library modules wattprint uses.
ML_PRELOAD = "import dataclasses, logging, threading, typing, inspect, re, functools, collections"


def start_stop(repeat: int, args: str) -> dict:
    cold = [run_child(START_STOP.format(preload="", args=args)) for _ in range(repeat)]
    preloaded = [run_child(START_STOP.format(preload=ML_PRELOAD, args=args)) for _ in range(repeat)]

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {
        "cold_first_start_plus_stop_ms": median(cold, "first_start_ms") + median(cold, "first_stop_ms"),
        "cold_import_and_construct_ms": median(cold, "import_and_construct_ms"),
        "preloaded_first_start_plus_stop_ms": median(preloaded, "first_start_ms") + median(preloaded, "first_stop_ms"),
        "preloaded_import_and_construct_ms": median(preloaded, "import_and_construct_ms"),
        "warm_start_ms": median(cold, "warm_start_ms"),
        "warm_stop_ms": median(cold, "warm_stop_ms"),
    }


BACKGROUND = """
import json, os, threading, time
import wattprint

def thread_cpu_ns(name):
    for thread in threading.enumerate():
        if thread.name == name:
            with open(f"/proc/self/task/{{thread.native_id}}/schedstat") as handle:
                return int(handle.read().split()[0])
    raise SystemExit("no meter thread")

def rss_kb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

rss_before = rss_kb()
run = wattprint.Tracker({args}).start()
rss_after = rss_kb()
time.sleep(1.0)
cpu0, t0, proc0 = thread_cpu_ns("wattprint-meter"), time.monotonic(), time.process_time()
time.sleep({idle_s})
cpu1, t1, proc1 = thread_cpu_ns("wattprint-meter"), time.monotonic(), time.process_time()

window_costs = []
for _ in range(5):
    n = 20000
    a = time.perf_counter()
    for _ in range(n):
        with run.task("w"):
            pass
    window_costs.append((time.perf_counter() - a) / n * 1e6)
run.stop()
print(json.dumps({{
    "meter_thread_cpu_share_pct": (cpu1 - cpu0) / 1e9 / (t1 - t0) * 100,
    "process_cpu_share_pct": (proc1 - proc0) / (t1 - t0) * 100,
    "rss_added_by_start_kb": rss_after - rss_before,
    "task_window_us": sorted(window_costs)[len(window_costs) // 2],
}}))
"""

RSS_BASELINE = """
import json
def rss_kb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss_kb()
import wattprint
run = wattprint.Tracker({args}).start()
after = rss_kb()
run.stop()
print(json.dumps({{"rss_added_over_bare_python_kb": after - before}}))
"""


def background(idle_s: float, args: str) -> dict:
    figures = run_child(BACKGROUND.format(idle_s=idle_s, args=args))
    figures.update(run_child(RSS_BASELINE.format(args=args)))
    return figures


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    has_rapl = os.path.isdir("/sys/class/powercap/intel-rapl:0")
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} logical CPUs ({model}), "
        f"Python {platform.python_version()}, RAPL {'present' if has_rapl else 'absent'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-s", type=float, default=30.0, help="idle time over which background CPU is measured")
    parser.add_argument("--repeat", type=int, default=15, help="fresh processes per start-up figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    options = parser.parse_args()

    compile_package()
    figures: dict[str, object] = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    figures["import"] = import_time(options.repeat)
    for mode in ("machine", "process"):
        args = f"attribution={mode!r}"
        figures[f"start_stop_{mode}"] = start_stop(options.repeat, args)
        figures[f"background_{mode}"] = background(options.idle_s, args)
    if options.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"wattprint overhead on {figures['machine']} ({figures['date']})")
    goals = {
        "import_over_bare_ms": "< 20 ms",
        "preloaded_first_start_plus_stop_ms": "< 20 ms",
        "warm_start_ms": "",
        "meter_thread_cpu_share_pct": "< 0.05 %",
        "task_window_us": "< 50 us",
    }
    for section, values in figures.items():
        if not isinstance(values, dict):
            continue
        print(f"\n{section}")
        for key, value in values.items():
            goal = goals.get(key, "")
            print(f"  {key:40s} {value:10.3f}  {('goal ' + goal) if goal else ''}")


if __name__ == "__main__":
    main()
