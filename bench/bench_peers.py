"""wattprint side by side with CodeCarbon and Carbontracker: install size, import, start/stop, memory, background
CPU and the slowdown of a CPU-bound loop, measured in the same run, interleaved, and written to BENCHMARKS.md.

    python bench/bench_peers.py [--dir ~/.cache/wattprint-bench] [--fresh] [--quick] [--candidate PATH]

Each tool gets a virtual environment of its own under ``--dir`` (reused on later runs; ``--fresh`` recreates
them): wattprint is installed from this checkout (not editable, as users get it), CodeCarbon and Carbontracker
at their current releases from the package index, and a bare environment is the baseline. Every figure is
taken in fresh interpreter processes of those environments, with bytecode compiled as pip compiles it at
install (``PYTHONDONTWRITEBYTECODE`` is removed for the children), each process in a scratch directory with
its own HOME and XDG directories, offline: CodeCarbon's ``OfflineEmissionsTracker`` with a country,
Carbontracker without API keys, wattprint with its default SQLite store (and ``store="off"`` as a line of its
own). Within each repetition the tools run in a shuffled order, after waiting for the rest of the machine to be
quiet; medians are reported with their quartiles. ``--candidate`` adds another wattprint source tree (a change
to try) as one more tool. The whole run takes about 25 minutes on 2 cores (``--quick``: about 6); the script
needs only the standard library and network access to the package index for the first run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().with_name("_peers_child.py")

ENVS = {
    "bare": [],
    "wattprint": ["@repo"],
    "codecarbon": ["codecarbon"],
    "carbontracker": ["carbontracker"],
}
"""Virtual environment -> what is installed into it (``@repo``: a wheel built from this checkout)."""

PROFILE_ENV = "wattprint-profile"
"""wattprint with pyinstrument, for the profiles only (so that pyinstrument is not in the measured install)."""

VARIANTS = {
    "wattprint": ("wattprint", "wattprint", "defaults: 1 s interval, SQLite store, flushed every 10 s"),
    "wattprint-off": ("wattprint", "wattprint store=off", "defaults, storing nothing"),
    "codecarbon": ("codecarbon", "CodeCarbon", "OfflineEmissionsTracker(country_iso_code='FRA'), 15 s interval"),
    "codecarbon-1s": ("codecarbon", "CodeCarbon 1 s", "the same with measure_power_secs=1"),
    "carbontracker": ("carbontracker", "Carbontracker", "CarbonTracker(epochs=1), no API keys, 1 s interval"),
}
"""Variant -> (environment, label, settings). Carbontracker's and wattprint's default interval is already 1 s."""

PEERS = ("codecarbon", "carbontracker")
PEER_1S = {"codecarbon": "codecarbon-1s", "carbontracker": "carbontracker"}

IMPORTS = {
    "wattprint": ("import wattprint", "from wattprint import Tracker"),
    "codecarbon": ("import codecarbon", "from codecarbon import OfflineEmissionsTracker"),
    "carbontracker": ("import carbontracker", "from carbontracker.tracker import CarbonTracker"),
}
"""Environment -> (import of the package, import of its tracker class)."""

PRELOAD = "import dataclasses, inspect, typing, re, logging, json, threading, enum, functools, collections, pathlib"
"""Standard-library modules every ML program has imported before it creates a tracker (``import torch`` loads them)."""

PACKAGE_NAMES = {"wattprint": "wattprint", "codecarbon": "codecarbon", "carbontracker": "carbontracker"}


# -- environments ------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    values += [0] * (8 - len(values))
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Quiet:
    """Waits, before a measurement, until the rest of the machine is quiet (other people's test runs on a shared
    VM would otherwise fall on whichever tool happens to run), and records how busy it was."""

    def __init__(self, threshold: float, max_wait_s: float, budget_s: float) -> None:
        self.threshold = threshold
        self.max_wait_s = max_wait_s
        self.budget_s = budget_s
        self.waited_s = 0.0
        self.samples: list[float] = []

    def wait(self) -> None:
        if self.max_wait_s <= 0:
            return
        start = time.monotonic()
        while True:
            b0, t0 = cpu_times()
            time.sleep(0.5)
            b1, t1 = cpu_times()
            busy = (b1 - b0) / max(1, t1 - t0)
            spent = time.monotonic() - start
            if busy < self.threshold or spent > self.max_wait_s or self.waited_s + spent > self.budget_s:
                break
        self.waited_s += time.monotonic() - start
        self.samples.append(busy)

    def figures(self) -> dict:
        busy = sorted(self.samples) or [0.0]
        return {"threshold": self.threshold, "waited_s": self.waited_s, "measurements": len(self.samples),
                "busy_median": statistics.median(busy), "busy_max": busy[-1],
                "above_threshold": sum(1 for b in busy if b >= self.threshold)}


def loadavg() -> list[float]:
    with open("/proc/loadavg") as handle:
        return [float(v) for v in handle.read().split()[:3]]


def base_python(requested: str | None) -> str:
    """The interpreter every environment is created from (not a virtual environment's own python)."""
    if requested:
        return requested
    return getattr(sys, "_base_executable", None) or sys.executable


def env_python(root: Path, name: str) -> Path:
    return root / name / "bin" / "python"


def install_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip(root: Path, name: str, *args: str) -> None:
    command = [str(env_python(root, name)), "-m", "pip", "install", "--quiet", *args]
    result = subprocess.run(command, env=install_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"pip install into {root / name} failed:\n{result.stdout}\n{result.stderr}")


def build_wheel(workdir: Path, source: Path = REPO) -> Path:
    """A wheel of this checkout (or of another wattprint source tree), built once per benchmark run."""
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(workdir), str(source)]
    result = subprocess.run(command, env=install_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"building the wattprint wheel failed:\n{result.stdout}\n{result.stderr}")
    wheels = sorted(workdir.glob("wattprint-*.whl"))
    if not wheels:
        raise SystemExit(f"no wattprint wheel in {workdir}")
    return wheels[-1]


def make_env(root: Path, name: str, packages: list[str], python: str, fresh: bool, wheel: Path) -> None:
    path = root / name
    marker = path / ".wattprint-bench-ready"
    if fresh and path.exists():
        shutil.rmtree(path)
    if path.exists() and not marker.exists():  # a half-made environment from an interrupted run
        shutil.rmtree(path)
    resolved = [str(wheel) if p == "@repo" else p for p in packages]
    if not path.exists():
        log(f"creating {path} ({' '.join(packages) or 'nothing installed'})")
        subprocess.run([python, "-m", "venv", str(path)], check=True, env=install_env())
        if resolved:
            pip(root, name, *resolved)
    elif "@repo" in packages:
        log(f"reinstalling wattprint from {REPO} into {path}")
        pip(root, name, "--force-reinstall", "--no-deps", str(wheel))
        pip(root, name, str(wheel))  # dependencies added since the environment was made
    # pip compiles what it installs; compiling again only fills gaps (and is the same for every environment)
    subprocess.run(
        [str(env_python(root, name)), "-m", "compileall", "-q", "-j", "0", str(site_packages(root, name))],
        check=True, env=install_env(), capture_output=True,
    )
    marker.write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))


def site_packages(root: Path, name: str) -> Path:
    found = sorted((root / name / "lib").glob("python*/site-packages"))
    if not found:
        raise SystemExit(f"no site-packages in {root / name}")
    return found[0]


def tree_bytes(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for file in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, file)).st_size
    return total


def env_facts(root: Path, name: str) -> dict:
    site = site_packages(root, name)
    dists = sorted(p.name for p in site.glob("*.dist-info"))
    version = None
    package = PACKAGE_NAMES.get(name)
    if package:
        out = subprocess.run(
            [str(env_python(root, name)), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
            capture_output=True, text=True, check=True,
        )
        version = out.stdout.strip()
    return {"bytes": tree_bytes(root / name), "distributions": dists, "version": version}


# -- running children ----------------------------------------------------------------------------------------------


class Runner:
    """Runs measurements in fresh interpreters, each in a scratch directory with its own HOME and XDG dirs."""

    def __init__(self, root: Path, scratch: Path, quiet: Quiet | None = None) -> None:
        self.root = root
        self.scratch = scratch
        self.quiet = quiet
        self.count = 0
        self.homes: dict[str, Path] = {}
        self.others: dict[str, list[float]] = {}
        """Measurement -> the share of the machine other processes used during each run of it."""

    def home(self, variant: str) -> Path:
        """One home per variant for the whole benchmark: wattprint's store and CodeCarbon's CSV persist in it, as
        they do for a user (the warm-up run creates them)."""
        if variant not in self.homes:
            home = self.scratch / f"home-{variant}"
            for sub in ("data", "config", "cache", "state", "work"):
                (home / sub).mkdir(parents=True, exist_ok=True)
            self.homes[variant] = home
        return self.homes[variant]

    def env(self, variant: str) -> dict[str, str]:
        home = self.home(variant)
        env = {
            k: v for k, v in os.environ.items()
            if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP")
            and not k.startswith(("WATTPRINT_", "CODECARBON_"))
        }
        env.update(
            HOME=str(home),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_STATE_HOME=str(home / "state"),
        )
        return env

    def child(self, measure: str, variant: str, env_name: str, timeout: float, quiet: bool = True,
              **params: object) -> dict:
        """Run one measurement; returns its figures plus ``process_s`` (spawn to reaped) and ``exit_ms``."""
        if quiet and self.quiet is not None:
            self.quiet.wait()
        self.count += 1
        home = self.home(variant)
        out = self.scratch / f"result-{self.count}.json"
        args = [f"{k}={v}" for k, v in params.items()]
        command = [str(env_python(self.root, env_name)), str(CHILD), measure, variant, str(out), *args]
        usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0, _ = cpu_times()
        start = time.monotonic()
        try:
            proc = subprocess.run(
                command, cwd=home / "work", env=self.env(variant), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as error:
            raise SystemExit(f"{measure} of {variant} ran past {timeout:.0f} s: {error.stderr or ''}") from error
        reaped = time.monotonic()
        busy1, _ = cpu_times()
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        own_s = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
        others_s = (busy1 - busy0) / CLOCK_TICKS - own_s
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(
                f"{measure} of {variant} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        figures = json.loads(out.read_text())
        done = float((out.parent / (out.name + ".done")).read_text())
        figures["process_s"] = reaped - start
        figures["exit_ms"] = (reaped - done) * 1e3
        figures["output"] = (proc.stdout + proc.stderr)[-2000:]
        figures["others_share"] = max(0.0, others_s) / ((reaped - start) * (os.cpu_count() or 1))
        """The share of the machine's CPUs that other processes used while this one ran."""
        self.others.setdefault(measure, []).append(figures["others_share"])
        return figures

    def wall_ms(self, env_name: str, code: str) -> float:
        env = self.env("imports")
        start = time.perf_counter()
        subprocess.run(
            [str(env_python(self.root, env_name)), "-c", code], check=True, env=env, cwd=self.home("imports") / "work"
        )
        return (time.perf_counter() - start) * 1e3


# -- statistics ----------------------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict:
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"median": None, "q1": None, "q3": None, "n": 0}
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {"median": statistics.median(values), "q1": q1, "q3": q3, "min": values[0], "max": values[-1],
            "n": len(values)}


# -- the measurements ------------------------------------------------------------------------------------------------


def measure_imports(runner: Runner, repeat: int) -> dict:
    statements = [("bare", "pass"), ("bare", PRELOAD)]
    for env_name, (package, cls) in IMPORTS.items():
        statements += [(env_name, package), (env_name, cls), (env_name, f"{PRELOAD}; {cls}")]
    times: dict[str, list[float]] = {code: [] for _, code in statements}
    for rep in range(repeat):
        order = list(statements)
        random.shuffle(order)
        if runner.quiet is not None:
            runner.quiet.wait()
        for env_name, code in order:
            times[code].append(runner.wall_ms(env_name, code))
        log(f"imports: repetition {rep + 1}/{repeat}")
    bare = statistics.median(times["pass"])
    preloaded = statistics.median(times[PRELOAD])
    result = {"bare_python_ms": summary(times["pass"]), "preload_ms": summary(times[PRELOAD]), "preload": PRELOAD}
    for env_name, (package, cls) in IMPORTS.items():
        result[env_name] = {
            "package_over_bare_ms": _shift(summary(times[package]), -bare),
            "class_over_bare_ms": _shift(summary(times[cls]), -bare),
            "class_over_preloaded_ms": _shift(summary(times[f"{PRELOAD}; {cls}"]), -preloaded),
        }
    return result


def _shift(s: dict, by: float) -> dict:
    return {k: (v + by if k in ("median", "q1", "q3", "min", "max") else v) for k, v in s.items()}


def measure_startstop(runner: Runner, repeat: int) -> dict:
    rows: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for rep in range(repeat):
        order = list(VARIANTS)
        random.shuffle(order)
        for variant in order:
            rows[variant].append(runner.child("startstop", variant, VARIANTS[variant][0], timeout=300, run_s=1.0))
        log(f"start/stop: repetition {rep + 1}/{repeat}")
    result = {}
    for variant, figures in rows.items():
        result[variant] = {
            key: summary([f[key] for f in figures])
            for key in ("import_class_ms", "start_ms", "stop_ms", "exit_ms", "rss_after_start_kb", "threads_running")
        }
        result[variant]["import_and_start_ms"] = summary([f["import_class_ms"] + f["start_ms"] for f in figures])
        result[variant]["output_sample"] = figures[-1]["output"]
    return result


def measure_idle(runner: Runner, repeat: int, idle_s: float) -> dict:
    rows: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for rep in range(repeat):
        order = list(VARIANTS)
        random.shuffle(order)
        for variant in order:
            rows[variant].append(
                runner.child("idle", variant, VARIANTS[variant][0], timeout=idle_s + 300, idle_s=idle_s)
            )
        log(f"idle: repetition {rep + 1}/{repeat}")
    return {
        variant: {
            key: summary([f[key] for f in figures])
            for key in ("cpu_share_pct", "cpu_share_second_half_pct", "rss_after_start_kb", "rss_running_kb",
                        "peak_rss_kb", "threads_running")
        }
        for variant, figures in rows.items()
    }


def calibrate_loop(runner: Runner, loop_s: float) -> int:
    n = 2_000_000
    for _ in range(3):
        taken = runner.child("calibrate", "none", "bare", timeout=300, n=n)["loop_s"]
        n = max(1, int(n * loop_s / taken))
        if abs(taken - loop_s) / loop_s < 0.1:
            break
    return n


def measure_loop(runner: Runner, repeat: int, n: int) -> dict:
    names = ["none", "control", *VARIANTS]
    rows: dict[str, list[float]] = {v: [] for v in names}
    background: dict[str, list[float]] = {v: [] for v in names}
    others: list[float] = []
    retries = 0
    for rep in range(repeat):
        order = list(names)
        random.shuffle(order)
        for variant in order:
            env_name = "bare" if variant in ("none", "control") else VARIANTS[variant][0]
            for attempt in range(3):  # a loop that other processes competed with is measured again (twice at most)
                figures = runner.child("loop", variant, env_name, timeout=600, n=n)
                if runner.quiet is None or figures["others_share"] < runner.quiet.threshold or attempt == 2:
                    break
                retries += 1
            rows[variant].append(figures["loop_s"])
            background[variant].append(figures["background_cpu_s"] / figures["loop_s"] * 100)
            others.append(figures["others_share"])
        log(f"loop: repetition {rep + 1}/{repeat}")
    base = rows["none"]
    base_median = statistics.median(base)
    result = {"n": n, "none": summary(base), "others_share": summary(others), "retries": retries}
    for variant in ["control", *VARIANTS]:
        values = rows[variant]
        paired = [v / b - 1 for v, b in zip(values, base, strict=True)]
        s = summary(values)
        result[variant] = {
            "loop_s": s,
            "slowdown_pct": (s["median"] / base_median - 1) * 100,
            "paired_slowdown_pct": summary([p * 100 for p in paired]),
            "within_no_tracker_range": min(base) <= s["median"] <= max(base),
            "background_cpu_pct": summary(background[variant]),
        }
    result["no_tracker_spread_pct"] = (max(base) - min(base)) / base_median * 100
    return result


def measure_costs(runner: Runner, repeat: int) -> dict:
    rows = []
    for rep in range(repeat):
        path = runner.scratch / f"costs-{rep}.sqlite"
        runner.child("makestore", "wattprint", "wattprint", timeout=300, quiet=False, store_path=path)
        rows.append(runner.child("costs", "wattprint", "wattprint", timeout=600, store_path=path))
    keys = sorted({k for r in rows for k, v in r.items() if k.endswith(("_ms", "_us")) and k != "exit_ms"})
    result: dict = {key: summary([r[key] for r in rows if r.get(key) is not None]) for key in keys}
    result["flush_records"] = rows[-1]["flush_records"]
    result["writer_kind"] = rows[-1].get("writer_kind")
    return result


def measure_profile(runner: Runner) -> dict:
    runner.child("profile", "wattprint", PROFILE_ENV, timeout=300)  # warm-up: the first run creates the store
    return runner.child("profile", "wattprint", PROFILE_ENV, timeout=300)


# -- the machine -----------------------------------------------------------------------------------------------------


def machine(python: str) -> dict:
    facts: dict[str, object] = {}
    try:
        with open("/proc/cpuinfo") as handle:
            text = handle.read()
        for line in text.splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        facts["virtualised"] = " hypervisor" in text
    except OSError:
        facts["cpu"] = platform.processor() or "unknown"
    facts["logical_cpus"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    facts["memory_gib"] = int(line.split()[1]) / 2**20
    except OSError:
        pass
    os_name = platform.system()
    try:
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    facts["os"] = f"{os_name}, Linux {platform.release()}"
    out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"], capture_output=True,
                         text=True)
    facts["python"] = out.stdout.strip()
    facts["rapl_readable"] = os.access("/sys/class/powercap/intel-rapl:0/energy_uj", os.R_OK)
    facts["nvidia_driver"] = os.path.exists("/proc/driver/nvidia/version")
    facts["network_lookup"] = _resolves("ipinfo.io")
    return facts


def _resolves(host: str) -> bool:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(3.0)
    try:
        socket.getaddrinfo(host, 80)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(old)


def git_revision() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    revision = out.stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True).stdout.strip()
    return revision + (" with uncommitted changes to src/" if dirty else "")


# -- the report --------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    parser.add_argument("--dir", type=Path, default=cache / "wattprint-bench",
                        help="where the virtual environments live (default: %(default)s); never inside the repository")
    parser.add_argument("--fresh", action="store_true", help="recreate the virtual environments")
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repetitions (a few minutes)")
    parser.add_argument("--repeat", type=int, help="fresh processes per start-up figure (default 15, quick 5)")
    parser.add_argument("--idle-repeat", type=int, help="repetitions of the idle figures (default 3, quick 1)")
    parser.add_argument("--loop-repeat", type=int, help="repetitions of the loop figures (default 5, quick 2)")
    parser.add_argument("--idle-s", type=float, help="idle time of the background CPU figure (default 30, quick 24)")
    parser.add_argument("--loop-s", type=float, help="length of the CPU-bound loop (default 10, quick 4)")
    parser.add_argument("--python", help="interpreter to create the environments from (default: this one's base)")
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md", help="report (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--no-profile", action="store_true", help="skip the pyinstrument profile of wattprint")
    parser.add_argument("--quiet-below", type=float, default=0.25,
                        help="before each measurement, wait until other processes use less than this share of the "
                             "machine's CPUs (default %(default)s; 0 turns waiting off)")
    parser.add_argument("--max-wait-s", type=float, default=60.0,
                        help="longest wait for quiet before one measurement (default %(default)s s); at most 10 min "
                             "in all")
    parser.add_argument("--candidate", type=Path,
                        help="another wattprint source tree (a change to try) measured as one more tool, "
                             "'wattprint candidate', beside this checkout")
    parser.add_argument("--from-json", type=Path, help="only render the report from figures saved with --json")
    options = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _peers_report import render

    if options.from_json:
        options.output.write_text(render(json.loads(options.from_json.read_text())))
        log(f"wrote {options.output}")
        return
    repeat = options.repeat or (5 if options.quick else 15)
    idle_repeat = options.idle_repeat or (1 if options.quick else 3)
    loop_repeat = options.loop_repeat or (2 if options.quick else 5)
    idle_s = options.idle_s or (24.0 if options.quick else 30.0)
    loop_s = options.loop_s or (4.0 if options.quick else 10.0)

    root = options.dir.expanduser().resolve()
    if root == REPO or REPO in root.parents:
        raise SystemExit(f"--dir {root} is inside the repository; give a directory outside it")
    root.mkdir(parents=True, exist_ok=True)
    python = base_python(options.python)
    began = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="wattprint-bench-") as scratch_name:
        scratch = Path(scratch_name)
        wheel = build_wheel(scratch / "wheel")
        for name, packages in ENVS.items():
            make_env(root, name, packages, python, options.fresh, wheel)
        if not options.no_profile:
            make_env(root, PROFILE_ENV, ["@repo", "pyinstrument"], python, options.fresh, wheel)
        if options.candidate:
            source = options.candidate.expanduser().resolve()
            make_env(root, "candidate", ["@repo"], python, True, build_wheel(scratch / "candidate", source))
            VARIANTS["candidate"] = ("candidate", "wattprint candidate", f"defaults, built from {source}")
        facts = {name: env_facts(root, name) for name in ENVS}

        quiet = Quiet(options.quiet_below, options.max_wait_s if options.quiet_below > 0 else 0.0, budget_s=600.0)
        runner = Runner(root, scratch, quiet)
        load_before = loadavg()
        log("warming up (first runs create each tool's files and fill the page cache)")
        for variant, (env_name, _, _) in VARIANTS.items():
            runner.child("startstop", variant, env_name, timeout=300, quiet=False, run_s=0.2)
        for env_name, (_, cls) in IMPORTS.items():
            runner.wall_ms(env_name, cls)
        log("calibrating the loop")
        n = calibrate_loop(runner, loop_s)

        figures: dict[str, object] = {
            "date": datetime.date.today().isoformat(),
            "machine": machine(python),
            "revision": git_revision(),
            "settings": {"repeat": repeat, "idle_repeat": idle_repeat, "loop_repeat": loop_repeat, "idle_s": idle_s,
                         "loop_s": loop_s,
                         "quick": options.quick, "candidate": VARIANTS.get("candidate", (None, None, None))[2]},
            "environments": facts,
        }
        figures["imports"] = measure_imports(runner, repeat)
        figures["startstop"] = measure_startstop(runner, repeat)
        figures["idle"] = measure_idle(runner, idle_repeat, idle_s)
        figures["loop"] = measure_loop(runner, loop_repeat, n)
        figures["costs"] = measure_costs(runner, 3)
        if not options.no_profile:
            figures["profile"] = measure_profile(runner)
        figures["load"] = {"loadavg_before": load_before, "loadavg_after": loadavg(), **quiet.figures(),
                           "others_during": {m: summary(v) for m, v in runner.others.items()}}
    figures["elapsed_s"] = time.monotonic() - began

    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))
    options.output.write_text(render(figures))
    log(f"wrote {options.output} in {figures['elapsed_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
