"""BENCHMARKS.md from the figures of ``bench_peers.py``: tables per metric, ratios, verdicts, plain statements.

``python bench/bench_peers.py --from-json FIGURES.json`` renders a saved run again without measuring.
"""

from __future__ import annotations

import math
from collections.abc import Callable

LABELS = {
    "wattprint": "wattprint",
    "wattprint-off": "wattprint, store=\"off\"",
    "codecarbon": "CodeCarbon",
    "codecarbon-1s": "CodeCarbon, 1 s interval",
    "carbontracker": "Carbontracker",
    "candidate": "wattprint candidate",
    "control": "control: no tracker, unrelated imports",
}
NOISY_SPREAD_PCT = 5.0
"""Above this spread of the loop without a tracker, the machine is too noisy to call a slowdown none or some."""
CONTROL_IMPORTS = "decimal, email.message, http.client, getpass"
"""As ``_peers_child.CONTROL_IMPORTS``."""
ROWS = ("wattprint", "wattprint-off", "codecarbon", "codecarbon-1s", "carbontracker")
PEERS = ("codecarbon", "carbontracker")
PEER_NAMES = {"codecarbon": "CodeCarbon", "carbontracker": "Carbontracker"}
ENV_OF = {"wattprint": "wattprint", "wattprint-off": "wattprint", "codecarbon": "codecarbon",
          "codecarbon-1s": "codecarbon", "carbontracker": "carbontracker", "candidate": "candidate"}


def rows_of(f: dict) -> tuple[str, ...]:
    """The variants measured: the five lines, and a candidate build when one was given."""
    return ROWS + (("candidate",) if "candidate" in f.get("startstop", {}) else ())

Getter = Callable[[dict, str], "dict | None"]


class Metric:
    """One line of the comparison: how to read it per variant, its unit, and the floor below which a ratio is not
    meaningful (the resolution of the measurement)."""

    def __init__(self, key: str, title: str, unit: str, get: Getter, floor: float, what: str,
                 per_env: bool = False) -> None:
        self.per_env = per_env
        """One figure per environment (imports), not per tracker setting."""
        self.key = key
        self.title = title
        self.unit = unit
        self.get = get
        self.floor = floor
        self.what = what


def _s(*path: str, scale: float = 1.0) -> Getter:
    def get(figures: dict, variant: str) -> dict | None:
        node: object = figures
        for part in path:
            part = part.replace("{v}", variant).replace("{env}", ENV_OF.get(variant, variant))
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        if not isinstance(node, dict) or node.get("median") is None:
            return None
        return {k: (v * scale if k in ("median", "q1", "q3", "min", "max") else v) for k, v in node.items()}

    return get


METRICS = [
    Metric("import_package", "`import` of the package", "ms", _s("imports", "{env}", "package_over_bare_ms"), 1.0,
           "`python -c \"import X\"` minus `python -c pass`, in fresh processes (wattprint, CodeCarbon, "
           "Carbontracker: `import wattprint`, `import codecarbon`, `import carbontracker`).", per_env=True),
    Metric("import_class", "import of the tracker class", "ms", _s("imports", "{env}", "class_over_bare_ms"), 1.0,
           "`from wattprint import Tracker`, `from codecarbon import OfflineEmissionsTracker`, "
           "`from carbontracker.tracker import CarbonTracker`, minus bare Python, in fresh processes: what a script "
           "pays before it can create a tracker.", per_env=True),
    Metric("import_class_preloaded", "import of the tracker class, stdlib preloaded", "ms",
           _s("imports", "{env}", "class_over_preloaded_ms"), 1.0,
           "The same import after the standard-library modules that every ML program has already loaded "
           "(`dataclasses`, `inspect`, `typing`, `re`, `logging`, `json`, `threading`, ...), minus that preload.",
           per_env=True),
    Metric("start", "first start (construct + start)", "ms", _s("startstop", "{v}", "start_ms"), 1.0,
           "In a new process, after the import: wattprint `Tracker().start()`, CodeCarbon "
           "`OfflineEmissionsTracker(...)` + `start()`, Carbontracker `CarbonTracker(epochs=1)` + `epoch_start()`."),
    Metric("import_and_start", "import + first start", "ms", _s("startstop", "{v}", "import_and_start_ms"), 1.0,
           "Both of the above, timed in the same new process: the delay before the first line of work runs."),
    Metric("stop", "stop", "ms", _s("startstop", "{v}", "stop_ms"), 0.5,
           "`stop()` (Carbontracker: `epoch_end()`, which ends its only epoch and reports) after one second of "
           "tracking, the first in the process."),
    Metric("exit", "interpreter exit after stop", "ms", _s("startstop", "{v}", "exit_ms"), 5.0,
           "From the end of the script to the process being reaped: atexit hooks, background threads, saving, "
           "interpreter finalisation (bare Python alone takes a few ms)."),
    Metric("rss_start", "resident memory added, after start", "MB", _s("idle", "{v}", "rss_after_start_kb",
                                                                          scale=1 / 1024), 0.5,
           "VmRSS after start minus VmRSS before importing the tool, same process."),
    Metric("rss_running", "resident memory added, running", "MB", _s("idle", "{v}", "rss_running_kb",
                                                                        scale=1 / 1024), 0.5,
           "The same at the end of the idle period, after the tool's background work (wattprint's first store "
           "flush at 10 s, CodeCarbon's and Carbontracker's measurements) has happened."),
    Metric("cpu", "background CPU, first idle period", "% of a core", _s("idle", "{v}", "cpu_share_pct"), 0.005,
           "Process CPU time over wall time while the main thread sleeps, from start() on: the tracker's threads, "
           "including their one-off work after start."),
    Metric("cpu_steady", "background CPU, steady (second half)", "% of a core",
           _s("idle", "{v}", "cpu_share_second_half_pct"), 0.005,
           "The same over the second half of the idle period only."),
]
BY_KEY = {m.key: m for m in METRICS}


# -- formatting ----------------------------------------------------------------------------------------------------


def num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    magnitude = abs(value)
    if unit == "% of a core":
        text = f"{value:.3f}" if magnitude < 0.1 else f"{value:.2f}"
        return f"{text} %"
    if magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def shown(value: float | None, metric: Metric) -> str:
    """A median as printed in the summary: below the measurement's resolution it is printed as such."""
    if value is not None and value < metric.floor and metric.unit == "ms":
        return f"< {num(metric.floor, metric.unit)}"
    return num(value, metric.unit)


def cell(s: dict | None, unit: str) -> str:
    if s is None:
        return "n/a"
    if s.get("n", 1) > 1 and s.get("q1") is not None:
        return f"{num(s['median'], unit)} ({num(s['q1'])}–{num(s['q3'])})"
    return num(s["median"], unit)


def ratio(peer: float | None, ours: float | None, floor: float) -> tuple[float | None, bool]:
    """peer / wattprint, with wattprint's figure raised to the measurement floor (then the ratio is a lower bound);
    NaN when both are below the floor (no ratio can be told)."""
    if peer is None or ours is None:
        return None, False
    if peer < floor and ours < floor:
        return math.nan, False
    bounded = ours < floor
    return max(peer, 0.0) / max(ours, floor), bounded


def ratio_text(value: float | None, bounded: bool) -> str:
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "— (both below the resolution)"
    text = f"{value:.0f}×" if value >= 10 else f"{value:.1f}×"
    if bounded:
        text = "≥ " + text
    if value < 1 and not bounded:
        text += " (wattprint slower)"
    return text


def overlap(a: dict, b: dict) -> bool:
    """Whether two figures' quartile ranges overlap (a difference inside the run-to-run spread)."""
    return a.get("n", 1) > 1 and b.get("n", 1) > 1 and not (a["q3"] < b["q1"] or b["q3"] < a["q1"])


# -- sections --------------------------------------------------------------------------------------------------------


def render(f: dict) -> str:
    out: list[str] = []
    add = out.append
    m = f["machine"]
    envs = f["environments"]
    settings = f["settings"]
    add("# wattprint against CodeCarbon and Carbontracker\n")
    add(
        f"Generated by `python bench/bench_peers.py` on {f['date']}"
        f"{' (quick mode: fewer, shorter repetitions)' if settings['quick'] else ''}, in {f['elapsed_s'] / 60:.0f} "
        "minutes. Rerun it to regenerate this file (`--quick` for a first look, `--help` for the options); the "
        "method is at the end. Lower is better on every line; a ratio is the peer's figure over wattprint's, so "
        "\"12×\" means wattprint is twelve times faster or smaller. Figures are medians, with quartiles in "
        "brackets.\n"
    )
    add("## Machine and tools\n")
    vm = " (virtual machine)" if m.get("virtualised") else ""
    add(f"- **CPU**: {m['cpu']}, {m['logical_cpus']} logical CPUs{vm}; **memory** {m.get('memory_gib', 0):.1f} GiB")
    add(f"- **OS**: {m['os']}; **Python** {m['python']}")
    sensors = "RAPL readable" if m["rapl_readable"] else "no readable RAPL counter"
    gpus = "an NVIDIA driver" if m["nvidia_driver"] else "no GPU"
    add(f"- **Energy sensors**: {sensors}, {gpus}"
        + ("" if m["rapl_readable"] else ": every tool models CPU power from utilisation here"))
    network = "the internet was reachable" if m["network_lookup"] else "no internet (names do not resolve)"
    add(f"- **Network**: {network}")
    add(f"- **Versions**: wattprint {envs['wattprint']['version']} (this checkout, {f['revision']}), "
        f"CodeCarbon {envs['codecarbon']['version']}, Carbontracker {envs['carbontracker']['version']}, each in a "
        "virtual environment of its own, installed with pip (bytecode compiled)")
    add(f"- **Repetitions**: {settings['repeat']} fresh processes per start-up figure, {settings['idle_repeat']} per "
        f"idle figure ({settings['idle_s']:.0f} s), {settings['loop_repeat']} per loop figure "
        f"({settings['loop_s']:.0f} s); tools interleaved "
        "in a shuffled order within each repetition")
    loaded = load_section(f)
    if loaded:
        add(loaded)
    add("")
    add("Settings: " + "; ".join(
        f"**{LABELS[v]}**: {desc}" for v, desc in (
            ("wattprint", "defaults (`Tracker()`: machine attribution, 1 s interval, GPUs probed, SQLite store "
                          "in the user data directory, flushed every 10 s)"),
            ("wattprint-off", "the same with `store=\"off\"`"),
            ("codecarbon", "`OfflineEmissionsTracker(country_iso_code=\"FRA\", output_dir=<scratch>, "
                           "log_level=\"error\")`, its default 15 s interval, writing its CSV file"),
            ("codecarbon-1s", "the same with `measure_power_secs=1`"),
            ("carbontracker", "`CarbonTracker(epochs=1)` with no API keys, its default 1 s interval"),
        )) + ".\n")

    add(summary_section(f))
    add(goals_section(f))
    add(slower_section(f))
    add(detail_sections(f))
    add(wattprint_section(f))
    add(candidate_section(f))
    add(analysis_section(f))
    add(profile_section(f))
    add(method_section(f))
    return "\n".join(out).rstrip() + "\n"


def _get(f: dict, key: str, variant: str) -> dict | None:
    return BY_KEY[key].get(f, variant)


def install_figures(f: dict, env: str) -> tuple[float, int, list[str]]:
    envs = f["environments"]
    bare = envs["bare"]
    extra = [d for d in envs[env]["distributions"] if d not in bare["distributions"]]
    return (envs[env]["bytes"] - bare["bytes"]) / 1e6, len(extra), extra


def loop_row(f: dict, variant: str) -> dict:
    return f["loop"][variant]


def summary_section(f: dict) -> str:
    lines = ["## Summary\n",
             "| | wattprint | CodeCarbon | Carbontracker | CodeCarbon / wattprint | Carbontracker / wattprint |",
             "|---|---|---|---|---|---|"]
    sizes = {env: install_figures(f, env) for env in ("wattprint", "codecarbon", "carbontracker")}
    row = ["install size beyond a bare environment"] + [f"{sizes[e][0]:.0f} MB" for e in sizes]
    row += [ratio_text(sizes[p][0] / sizes["wattprint"][0], False) for p in PEERS]
    lines.append("| " + " | ".join(row) + " |")
    row = ["packages installed"] + [str(sizes[e][1]) for e in sizes]
    row += [ratio_text(sizes[p][1] / sizes["wattprint"][1], False) for p in PEERS]
    lines.append("| " + " | ".join(row) + " |")
    for metric in METRICS:
        ours = metric.get(f, "wattprint")
        peers = {p: metric.get(f, p) for p in PEERS}
        row = [metric.title] + [shown(s["median"], metric) if s else "n/a" for s in (ours, *peers.values())]
        for p in PEERS:
            r, bounded = ratio(peers[p]["median"] if peers[p] else None, ours["median"] if ours else None,
                               metric.floor)
            row.append(ratio_text(r, bounded))
        lines.append("| " + " | ".join(row) + " |")
    for label, variants in (("loop slowdown, default settings", ("wattprint", "codecarbon", "carbontracker")),
                            ("loop slowdown, 1 s interval", ("wattprint", "codecarbon-1s", "carbontracker"))):
        cells = []
        for v in variants:
            r = loop_row(f, v)
            cells.append(f"{r['slowdown_pct']:+.1f} %" + ("" if r["within_no_tracker_range"] else " ‡"))
        lines.append("| " + " | ".join([label, *cells, "", ""]) + " |")
    spread = f["loop"]["no_tracker_spread_pct"]
    control = f["loop"].get("control")
    control_text = (f" The control, which runs no tracker but imports a few unrelated standard-library modules, "
                    f"moved the loop by {control['slowdown_pct']:+.1f} % (see the loop's section)."
                    if control else "")
    lines.append(
        f"\n‡ outside the range of the runs without a tracker (which spread over {spread:.1f} % of their median); "
        "unmarked slowdowns cannot be told from none. wattprint's and Carbontracker's default interval is 1 s, so "
        f"their two loop lines are one measurement.{control_text}\n"
    )
    return "\n".join(lines)


def goals_section(f: dict) -> str:
    lines = ["## Goals\n", "| goal | measured | verdict |", "|---|---|---|"]

    def times(key: str, peer: str = "codecarbon") -> tuple[float | None, bool, str]:
        metric = BY_KEY[key]
        ours, theirs = metric.get(f, "wattprint"), metric.get(f, peer)
        r, bounded = ratio(theirs["median"] if theirs else None, ours["median"] if ours else None, metric.floor)
        text = (f"{shown(theirs['median'], metric)} against {shown(ours['median'], metric)}: "
                f"{ratio_text(r, bounded)}") if ours and theirs else "n/a"
        return r, bounded, text

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("**met**" if ok else "**not met**")

    for key, goal in (("import_class", "import at least 10× faster than CodeCarbon (tracker class, bare Python)"),
                      ("import_class_preloaded", "the same, stdlib preloaded as in any ML program"),
                      ("import_package", "the same, `import wattprint` alone"),
                      ("start", "first start at least 10× faster than CodeCarbon"),
                      ("import_and_start", "import + first start at least 10× faster than CodeCarbon")):
        r, _, text = times(key)
        lines.append(f"| {goal} | {text} | {verdict(None if r is None else r >= 10)} |")
    for key in ("rss_start", "rss_running"):
        r, _, text = times(key)
        lines.append(f"| {BY_KEY[key].title}: under a third of CodeCarbon's | {text} | "
                     f"{verdict(None if r is None else r > 3)} |")
    for key in ("cpu", "cpu_steady"):
        for ours_v, peer_v, label in (("wattprint", "codecarbon", "defaults"), ("wattprint", "codecarbon-1s", "1 s")):
            metric = BY_KEY[key]
            ours, theirs = metric.get(f, ours_v), metric.get(f, peer_v)
            if not (ours and theirs):
                continue
            ok = ours["median"] <= theirs["median"] or overlap(ours, theirs)
            note = "" if ours["median"] <= theirs["median"] else " (higher, within the spread)" if ok else ""
            lines.append(f"| {metric.title}, no higher than CodeCarbon ({label}) | {num(ours['median'], metric.unit)} "
                         f"against {num(theirs['median'], metric.unit)}{note} | {verdict(ok)} |")
    loop = f["loop"]
    control = loop.get("control")
    spread = loop["no_tracker_spread_pct"]
    for v, label in (("wattprint", "default store"), ("wattprint-off", "store=\"off\"")):
        r = loop[v]
        threads_cpu = r.get("background_cpu_pct", {}).get("median")
        note = f"; the tracker's threads used {num(threads_cpu, '% of a core')} of the loop's time"
        if control is not None:
            note += f"; the control with no tracker moved by {control['slowdown_pct']:+.1f} %"
        if spread > NOISY_SPREAD_PCT:
            decided = (f"**undecided**: the runs without a tracker spread over more than {NOISY_SPREAD_PCT:.0f} % "
                       "of their median; rerun on a quieter machine")
        else:
            decided = verdict(r["within_no_tracker_range"])
        lines.append(f"| loop slowdown indistinguishable from none ({label}) | {r['slowdown_pct']:+.1f} % "
                     f"(no-tracker runs spread over {spread:.1f} %){note} | {decided} |")
    return "\n".join(lines) + "\n"


def slower_section(f: dict) -> str:
    lines = ["## Where wattprint is slower or bigger than a peer\n"]
    found = []
    for metric in METRICS:
        ours = metric.get(f, "wattprint")
        if ours is None:
            continue
        for peer in ("codecarbon", "codecarbon-1s", "carbontracker"):
            if metric.per_env and peer == "codecarbon-1s":
                continue
            theirs = metric.get(f, peer)
            if theirs is None or ours["median"] <= theirs["median"] or ours["median"] < metric.floor:
                continue
            noise = " — within the run-to-run spread" if overlap(ours, theirs) else ""
            found.append(f"- **{metric.title}**: wattprint {num(ours['median'], metric.unit)}, {LABELS[peer]} "
                         f"{num(theirs['median'], metric.unit)}{noise}.")
    loop = f["loop"]
    for peer in ("codecarbon", "codecarbon-1s", "carbontracker"):
        if loop["wattprint"]["slowdown_pct"] > loop[peer]["slowdown_pct"] and not (
            loop["wattprint"]["within_no_tracker_range"]
        ):
            found.append(f"- **loop slowdown**: wattprint {loop['wattprint']['slowdown_pct']:+.1f} %, "
                         f"{LABELS[peer]} {loop[peer]['slowdown_pct']:+.1f} %.")
    if not found:
        lines.append("On no line of this run.\n")
    else:
        lines.append("Every line of this run where wattprint's median is above a peer's (the analysis below says "
                     "where the time goes and how to remove it):\n")
        lines += found
        lines.append("")
    return "\n".join(lines)


def detail_sections(f: dict) -> str:
    lines = ["## Each metric\n", "### Install size\n",
             "Bytes of every file in the environment beyond a bare `python -m venv` (pip's bytecode included), and "
             "the distributions installed beyond it.\n",
             "| tool | size beyond bare | packages | distributions |", "|---|---|---|---|"]
    for env in ("wattprint", "codecarbon", "carbontracker"):
        size, count, extra = install_figures(f, env)
        names = ", ".join(d.split("-")[0] for d in extra)
        lines.append(f"| {LABELS[env]} | {size:.1f} MB | {count} | {names} |")
    lines.append("")
    for metric in METRICS:
        lines.append(f"### {metric.title[0].upper() + metric.title[1:]}\n")
        lines.append(metric.what + "\n")
        lines.append("| tool | median (quartiles) | peer / wattprint |")
        lines.append("|---|---|---|")
        ours = metric.get(f, "wattprint")
        for v in rows_of(f):
            if metric.per_env and v in ("wattprint-off", "codecarbon-1s"):
                continue
            s = metric.get(f, v)
            if s is None:
                continue
            r_text = ""
            if v in ("codecarbon", "codecarbon-1s", "carbontracker"):
                r, bounded = ratio(s["median"], ours["median"] if ours else None, metric.floor)
                r_text = ratio_text(r, bounded)
            lines.append(f"| {LABELS[v]} | {cell(s, metric.unit)} | {r_text} |")
        lines.append("")
    loop = f["loop"]
    lines.append("### Slowdown of a CPU-bound loop\n")
    lines.append(
        f"A pure-Python loop of {loop['n']:,} iterations (about {f['settings']['loop_s']:.0f} s here), timed in "
        "fresh processes with no tracker and with each tracker started just before it, interleaved; the "
        "slowdown is the median loop time over the median without a tracker, and \"paired\" the median of each "
        "repetition's ratio to the no-tracker run of the same repetition. \"Tracker threads\" is the CPU time "
        "that threads other than the main one used during the loop, as a share of the loop's time: the "
        "tracker's own work, which is what it can take from the loop. The control imports a few standard-library "
        f"modules that have nothing to do with measuring (`{CONTROL_IMPORTS}`) and runs no tracker: the speed of "
        "such a loop depends on the process's memory layout, which any import changes, and the control shows by "
        "how much on this machine.\n")
    lines.append("| tool | loop time | slowdown | paired | tracker threads | told apart from no tracker? |")
    lines.append("|---|---|---|---|---|---|")
    lines.append(f"| no tracker | {cell(loop['none'], 's')} | | | | |")
    for v in ("control", *rows_of(f)):
        r = loop.get(v)
        if r is None:
            continue
        told = "no: inside the no-tracker range" if r["within_no_tracker_range"] else "yes: outside it"
        threads_cpu = r.get("background_cpu_pct", {}).get("median")
        lines.append(f"| {LABELS.get(v, v)} | {cell(r['loop_s'], 's')} | {r['slowdown_pct']:+.2f} % | "
                     f"{r['paired_slowdown_pct']['median']:+.2f} % | {num(threads_cpu, '% of a core')} | {told} |")
    lines.append("")
    threads = {v: f["idle"][v]["threads_running"]["median"] for v in rows_of(f)}
    lines.append("Threads while tracking (the main thread included): " + ", ".join(
        f"{LABELS[v]} {threads[v]:.0f}" for v in rows_of(f)) + ".\n")
    return "\n".join(lines)


def wattprint_section(f: dict) -> str:
    c = f["costs"]
    records = c["flush_records"]
    rows = [
        ("one `task()` window (enter + exit; its result is computed when read)", "task_window_us", "µs"),
        ("opening the SQLite store with `open_store` (SQLAlchemy; cold process)", "open_store_ms", "ms"),
        ("opening it with `open_writer` (sqlite3; cold process)", "open_writer_ms", "ms"),
        ("one periodic flush: building its records (`RunRecorder.periodic`)", "flush_build_ms", "ms"),
        ("one periodic flush: writing them with `RunStore.save` (store open)", "flush_runstore_ms", "ms"),
        ("one periodic flush: writing them with the `sqlite3` writer (store open)", "flush_writer_ms", "ms"),
        ("the first write of a run (inserts rather than updates)", "first_save_ms", "ms"),
    ]
    lines = ["## wattprint alone\n", "| figure | median (quartiles) |", "|---|---|"]
    for label, key, unit in rows:
        if c.get(key) and c[key].get("median") is not None:
            lines.append(f"| {label} | {cell(c[key], unit)} |")
    lines.append(
        f"\nA periodic flush here writes the run's row, {records['components']} per-device totals, "
        f"{records['intervals']} interval rows of the current bucket and {records['tasks']} task windows that ended "
        "since the previous flush; the writer thread flushes every 10 s by default. Each store was created by "
        "another process, so the opening figures are those of a process's first flush.\n")
    return "\n".join(lines)


def load_section(f: dict) -> str:
    load = f.get("load")
    if not load:
        return ""
    before, after = load["loadavg_before"], load["loadavg_after"]
    text = (f"- **Other load**: load average {before[0]:.2f} before and {after[0]:.2f} after the run. ")
    if load["measurements"]:
        text += (
            f"Before each measurement the script waited (up to a minute) for the rest of the machine to use less "
            f"than {load['threshold']:.0%} of its CPUs: {load['waited_s']:.0f} s of waiting in all; the busy share "
            f"just before a measurement had a median of {load['busy_median']:.0%} and a maximum of "
            f"{load['busy_max']:.0%}, and {load['above_threshold']} of {load['measurements']} measurements started "
            "above the threshold.")
    during = load.get("others_during", {})
    parts = [f"{what} {during[key]['median']:.0%} (max {during[key]['max']:.0%})"
             for key, what in (("startstop", "start/stop"), ("idle", "idle"), ("loop", "loop"))
             if during.get(key, {}).get("median") is not None]
    if parts:
        text += (" Other processes' median share of the CPUs while a measurement ran: " + ", ".join(parts) + "; "
                 f"loop runs during which it exceeded the threshold were measured again "
                 f"({f['loop'].get('retries', 0)} times).")
    return text
def profile_section(f: dict) -> str:
    profile = f.get("profile")
    if not profile:
        return ""
    parts = ["## Profiles of wattprint\n",
             "pyinstrument (sampling every 0.2 ms) in a fresh process of the wattprint environment with "
             "pyinstrument added: the call tree with wattprint's frames shown (branches under 2 % left out), and the "
             "functions with the most time of their own. The profiler slows the code down; read the shares.\n"]
    for key, title in (("import_and_start", "Import, construction and first start"), ("stop", "First stop")):
        entry = profile.get(key, {})
        if isinstance(entry, str):  # figures saved by an older version of the script
            entry = {"tree": entry}
        parts += [f"<details><summary>{title}: call tree</summary>\n", "```text",
                  _trim_profile(entry.get("tree", ""), 80), "```", "</details>\n"]
        if entry.get("flat"):
            parts += [f"<details><summary>{title}: self time</summary>\n", "```text",
                      _trim_profile(entry["flat"], 20), "```", "</details>\n"]
    return "\n".join(parts)


def _trim_profile(text: str, max_lines: int) -> str:
    """The profile without pyinstrument's banner, cut to ``max_lines``."""
    body = [line.rstrip() for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(body) if line[:1].isdigit() or line.lstrip()[:2] == "0."), 0)
    body = body[start:]
    if len(body) > max_lines:
        body = body[:max_lines] + [f"... ({len(body) - max_lines} more lines)"]
    return "\n".join(body)


def method_section(f: dict) -> str:
    s = f["settings"]
    return "\n".join([
        "## Method\n",
        "- **Environments.** `bench/bench_peers.py` creates one virtual environment per tool and a bare one "
        "under `--dir` (default `~/.cache/wattprint-bench`, reused; `--fresh` recreates them). wattprint is "
        "installed from a wheel of this checkout, the peers at their current releases; pip compiles bytecode at "
        "install, and the children run without `PYTHONDONTWRITEBYTECODE`, so no figure includes compiling.",
        "- **Isolation.** Every measurement is a fresh interpreter of the tool's environment "
        "(`bench/_peers_child.py`), whose working directory, HOME and XDG directories are a scratch directory "
        "kept for the whole benchmark, so wattprint's store and CodeCarbon's CSV file persist from one run to the "
        "next as they do for a user. A warm-up run of every tool precedes the measurements (it creates those files "
        "and loads the page cache).",
        "- **Offline.** CodeCarbon runs its offline tracker with a country; Carbontracker has no API keys. "
        "Carbontracker still asks a geolocation service (ipinfo.io, through `geocoder`) for the location when it "
        "is constructed, and without an answer uses the world-average intensity; "
        + ("here no name resolved, so the lookup failed at once and its start figure contains no network "
           "round trip (on a connected machine it would)." if not f["machine"]["network_lookup"] else
           "here the internet was reachable, so its start figure contains that round trip.")
        + " wattprint makes no network call by default.",
        f"- **Interleaving.** In each of the {s['repeat']} (start-up), {s['idle_repeat']} (idle) or "
        f"{s['loop_repeat']} (loop) "
        "repetitions every tool runs once, in a shuffled order, so drifts of the machine fall on all of them.",
        "- **Import** is the wall time of `python -c \"<import>\"` minus that of `python -c pass` (medians over "
        "the repetitions). **Start** and **stop** are timed inside a new process with `time.perf_counter`; "
        "**exit** is the time from the script's last line to the parent reaping the process (it carries work that "
        "a tool defers to exit, such as wattprint's final save to its store).",
        f"- **Memory** is VmRSS from `/proc/self/status`; **background CPU** is `time.process_time()` over "
        f"`time.monotonic()` across {s['idle_s']:.0f} s in which the main thread sleeps, as a share of one core.",
        "- **Loop** runs in fresh processes: bare Python, and each tool's environment with its tracker started "
        "right before the loop (so one-off work after start falls inside the loop, as it would in a program).",
        "- Ratios use wattprint's figure raised to the measurement's resolution (1 ms for imports and starts, "
        "0.5 ms for stop, 5 ms for exit, 0.5 MB, 0.005 % of a core), marked \"≥\" when that happened.",
    ]) + "\n"




def candidate_section(f: dict) -> str:
    if "candidate" not in f.get("startstop", {}):
        return ""
    lines = ["## The candidate against this checkout\n",
             f"`--candidate` built {f['settings'].get('candidate') or 'another source tree'} and measured it as one "
             "more tool, interleaved with the others.\n",
             "| figure | wattprint | candidate | change |", "|---|---|---|---|"]
    for metric in METRICS:
        if metric.per_env:
            continue
        ours, theirs = metric.get(f, "wattprint"), metric.get(f, "candidate")
        if not (ours and theirs):
            continue
        change = (theirs["median"] / ours["median"] - 1) * 100 if ours["median"] else float("nan")
        lines.append(f"| {metric.title} | {num(ours['median'], metric.unit)} | {num(theirs['median'], metric.unit)} "
                     f"| {change:+.0f} % |")
    loop = f["loop"]
    lines.append(f"| loop slowdown | {loop['wattprint']['slowdown_pct']:+.1f} % | "
                 f"{loop['candidate']['slowdown_pct']:+.1f} % | |")
    return "\n".join(lines) + "\n"


def _median(f: dict, *path: str) -> float | None:
    node: object = f
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node.get("median") if isinstance(node, dict) else None


def _profile_share(f: dict, key: str, function: str) -> float | None:
    """The share of a profile's time that ``function`` took by itself (from the flat, self-time listing)."""
    entry = (f.get("profile") or {}).get(key)
    if not isinstance(entry, dict) or not entry.get("flat") or not entry.get("tree"):
        return None
    tree = [line for line in entry["tree"].splitlines() if line.strip()[:1].isdigit()]
    if not tree:
        return None
    total = float(tree[0].split()[0])
    own = sum(float(line.split()[0]) for line in entry["flat"].splitlines()
              if line.strip()[:1].isdigit() and f" {function} " in f" {line} ")
    return own / total if total else None


def analysis_section(f: dict) -> str:
    """Where wattprint's time goes, from the profiles and ``python -X importtime`` (written by hand; the figures in it
    come from this run, the before/after figures of changes from the candidate build when there is one)."""
    open_store_ms = _median(f, "costs", "open_store_ms")
    open_writer_ms = _median(f, "costs", "open_writer_ms")
    runstore_ms = _median(f, "costs", "flush_runstore_ms")
    writer_ms = _median(f, "costs", "flush_writer_ms")
    exit_ms = _median(f, "startstop", "wattprint", "exit_ms")
    exit_off_ms = _median(f, "startstop", "wattprint-off", "exit_ms")
    rss_start = _median(f, "idle", "wattprint", "rss_after_start_kb")
    rss_running = _median(f, "idle", "wattprint", "rss_running_kb")
    rss_grown = None if rss_running is None or rss_start is None else rss_running - rss_start
    stop_ms = _median(f, "startstop", "wattprint", "stop_ms")
    cpu_first = _median(f, "idle", "wattprint", "cpu_share_pct")
    cpu_first_off = _median(f, "idle", "wattprint-off", "cpu_share_pct")
    cpu_first_cc = _median(f, "idle", "codecarbon", "cpu_share_pct")
    cpu_steady = _median(f, "idle", "wattprint", "cpu_share_second_half_pct")
    cpu_steady_cc = _median(f, "idle", "codecarbon", "cpu_share_second_half_pct")
    start_cc = _median(f, "startstop", "codecarbon", "start_ms")
    import_ms = _median(f, "imports", "wattprint", "class_over_bare_ms")
    preloaded_ms = _median(f, "imports", "wattprint", "class_over_preloaded_ms")

    def n(value: float | None, unit: str, scale: float = 1.0) -> str:
        return "n/a" if value is None else num(value * scale, unit)

    create_start = _profile_share(f, "import_and_start", "_create_fn")
    create_stop = _profile_share(f, "stop", "_create_fn")
    if create_start is not None and create_stop is not None:
        dataclass_text = (
            f" By the profiles' self time, `dataclasses._create_fn` alone, the `exec` of each generated `__init__`, "
            f"`__repr__`, `__eq__`, `__hash__` and `__setattr__` (Python 3.11 compiles them one by one), is "
            f"{create_start:.0%} of import + first start and {create_stop:.0%} of the first stop. Fewer dataclasses "
            "on these paths, or fewer generated methods on the internal ones (`eq=False` where no one compares "
            "them, no `frozen` where nothing is shared), is the general lever; Python 3.13 makes each class cheaper.")
    else:
        dataclass_text = ""
    loop = f["loop"]
    control_pct = loop["control"]["slowdown_pct"] if "control" in loop else None
    ours_pct = loop["wattprint"]["slowdown_pct"]
    off_pct = loop["wattprint-off"]["slowdown_pct"]
    off_threads = loop["wattprint-off"].get("background_cpu_pct", {}).get("median")
    spread = loop["no_tracker_spread_pct"]
    ours_threads = loop["wattprint"].get("background_cpu_pct", {}).get("median")
    paragraphs = [
        "## What costs wattprint the time, and how to remove it",
        "Found with pyinstrument (the profiles are below) and `python -X importtime` on this machine. The text is "
        "written by hand (last checked on 2026-11-23); its figures are this run's unless a date says otherwise.",

        "**1. The first save of a process: SQLAlchemy** (*done*). The recorder's writer thread opened the store "
        f"with `open_store`, which imports SQLAlchemy: {n(open_store_ms, 'ms')} in a cold process here, nearly all "
        "of it the import, paid once per process at its first periodic flush or, for a script that ends sooner, at "
        "exit, where the interpreter waits for the final save; it also added about 15 MB of resident memory and "
        "competed with the user's code for the interpreter lock while it ran. Now `wattprint.store.open_writer(url)` "
        "writes a SQLite store that exists at the newest schema revision with the standard library's `sqlite3` "
        "(the same rows, from `store/rows.py`, which `RunStore.save` uses too; the same pragmas and transactions) "
        "and falls back to `open_store` for anything else (a new file, an older schema, PostgreSQL); the recorder "
        f"uses it. It opens the store in {n(open_writer_ms, 'ms')} and writes a flush in {n(writer_ms, 'ms')}, "
        f"against {n(runstore_ms, 'ms')} through SQLAlchemy. Measured before and after in a scratch copy "
        "(2026-11-23, this machine, 7 interleaved runs): exit after stop 274 ms → 25 ms, resident memory while "
        "running 36 MB → 16 MB, background CPU of the first 24 s 1.3 % → 0.16 % of a core. In this run exit "
        f"after stop takes {n(exit_ms, 'ms')} with the store and {n(exit_off_ms, 'ms')} without, and a running "
        f"tracker grows by {n(rss_grown, 'MB', 1 / 1024)} between start and the end of the "
        f"{f['settings']['idle_s']:.0f} s idle period (the first flush: `sqlite3`, the store's records and the "
        "footprint of the intervals).",

        "**2. Stop: the first carbon footprint of the process** (*done*). `stop()` prices the run, and the first "
        "time in a process that resolved the location and read embedded tables: 28.3 ms of a 1 s run's stop in the "
        "last run before the change (2026-11-23, quick mode), about 40 % of it parsing the whole of "
        "`intensity.csv` to find the world average, 25 % importing `accounting.py` and `carbon/intensity.py`, 15 % "
        "loading the PUE table. Two changes: a cold `lookup_intensity` reads only the lines of the table that name "
        "the key (as `data/_hardware.py` does for the TDP table; `tests/data/test_data_build.py` checks it against the "
        "full index for every key and alias), and the meter's thread prepares the footprint half a second after "
        "start (a job of the meter, about 15 ms of background CPU once per process). The first stop now takes "
        f"{n(stop_ms, 'ms')}; a run stopped within half a second of its start still pays the lookup itself.",

        f"**3. Importing the tracker class in a bare interpreter: `dataclasses`.** `from wattprint import Tracker` "
        f"takes {n(import_ms, 'ms')} over bare Python. Most of it is importing the standard library's "
        "`dataclasses` (which imports `inspect`, `ast`, `dis`, `tokenize`, `enum`, ...), which every ML program "
        "has imported before it creates a tracker (`import torch` does); with those modules preloaded the same "
        f"import takes {n(preloaded_ms, 'ms')}. *Done*: the result dataclasses of `results.py` (about 5 ms to "
        "create here, half of the preloaded figure before the change: 10.8 → 6.5 ms, 2026-11-23, 8 interleaved "
        "runs) are no longer on the import path: the sensors and the meter take the method names and "
        "`DeviceInfo` from `methods.py`, and the meter's thread imports the results half a second after start. "
        "Getting the bare figure under a tenth of CodeCarbon's would need no dataclass at all on the import path "
        "(`config.Key`, `sensors.SensorConfig`, the meter's records), which would move the cost of importing "
        "`dataclasses` into `start()` rather than remove it.",

        "**4. Background CPU.** Against CodeCarbon at its 15 s default, wattprint's first idle period is higher "
        f"({n(cpu_first, '% of a core')} against {n(cpu_first_cc, '% of a core')}) because a process's one-off work "
        "falls in it: preparing the first footprint half a second after start (the location and the grid and PUE "
        "tables, moved out of `stop()`; it is most of the difference between the `store=\"off\"` line, "
        f"{n(cpu_first_off, '% of a core')}, and the steady figure) and the first flush to the store at 10 s "
        "(`sqlite3`, the records, the footprint of the intervals: the difference between the two wattprint lines). "
        "CodeCarbon does its one-off work in its constructor, on the user's thread "
        f"({n(start_cc, 'ms')} of first start). Steady, wattprint uses {n(cpu_steady, '% of a core')} against "
        f"CodeCarbon's {n(cpu_steady_cc, '% of a core')}. "
        "Against Carbontracker: without RAPL, Carbontracker's generic CPU handler charges half "
        "the TDP of the CPU model it matched and reads nothing per sample (its log says \"at 50% utilization\"), so "
        "its sampler has almost nothing to do. wattprint follows the actual utilisation and memory in use: every "
        "second its sampler reads `/proc/stat` and `/proc/meminfo`, about 0.4 ms of CPU per tick on this VM, of "
        "which about 0.15 ms is the kernel producing those files and 0.1 ms waking the thread. `MemInfo.read` now "
        "parses only the first three lines of `/proc/meminfo` when they hold what it needs (it parsed all ~55). "
        "Sampling memory less often than the CPU (it changes slowly, and its model is ±50 %) would save most of "
        "what a tick still reads.",

        "**5. Start.** Construct + start, by the profile: probing the sensors, where looking the CPU model up loads "
        "`data/_hardware.py` and the name regexes of `_names.py` (about 8 ms); the store records' dataclasses "
        "(`store/records.py`, about 7 ms, imported to check the store URL); importing `logging` to log a note about "
        "the modelled CPU (about 5 ms; `_log.info` and `_log.debug` could return at once while `logging` has not "
        "been imported, since no handler can then exist to show the record); platformdirs for the user's config "
        "path (about 5 ms, in `config.py`); the training helpers imported at construction (`fingerprint`, "
        "`budget`, `predict`: about 8 ms). Each is small against the goal, and paid once, by the first tracker of "
        "a process." + dataclass_text,

        f"**6. The loop.** The tracker can take from a pure-Python loop what its threads run while the loop holds "
        f"the interpreter lock: here {n(ours_threads, '% of a core')} of the loop's time with the default store "
        f"and {n(off_threads, '% of a core')} with `store=\"off\"`, more than the same threads use while the "
        "program sleeps (the background CPU above), because the one-off work of a process (preparing the first "
        "footprint, the first flush at 10 s) falls inside a 10 s loop, and because against a busy interpreter "
        "each tick wakes several times before it gets the interpreter lock (CPython hands it over at 5 ms switch "
        "intervals): measured outside this script (2026-11-23, `store=\"off\"`, 12 s, two runs each), the meter "
        "thread ran in 19–22 time slices while the program slept and in 128–222 against a busy loop, for about "
        "1.4× the CPU. Fewer ticks (sampling memory less often, a longer interval when nothing changes) is the "
        f"lever. The measured wall-clock slowdown is {ours_pct:+.1f} % ({off_pct:+.1f} % with `store=\"off\"`), "
        f"but the runs without a tracker spread over {spread:.1f} % of their median, and the control, which runs "
        f"no tracker and only imports `{CONTROL_IMPORTS}`, moved the loop by {n(control_pct, '%')}: the speed of "
        "such a loop depends on the process's memory layout, which any import changes, and on this shared VM on "
        "the hypervisor. Reproduced outside this script (2026-11-23, bare Python, 4–10 fresh processes each, "
        "interleaved): importing `decimal` alone before the loop made it 9 % slower and `sqlite3` not at all. So "
        "on this machine the loop cannot tell differences of a few per cent between tools apart from layout luck "
        "and noise; what wattprint controls is the CPU of its threads.",
    ]
    return "\n\n".join(paragraphs) + "\n"
