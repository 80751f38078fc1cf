"""Time and memory of ``wattprint import codecarbon`` on a generated CodeCarbon emissions.csv. Prints figures.

    python bench/bench_import.py [--rows 100000] [--rows-per-run 1] [--store PATH_OR_URL]

The CSV has CodeCarbon's own columns (those of ``codecarbon.output_methods.emissions_data.EmissionsData``)
and plausible values; each run has ``--rows-per-run`` rows (running totals, as ``flush()`` writes them). The
import runs as the command line does, in a child process, into a fresh SQLite store (or ``--store``); wall time,
CPU time (which a busy machine changes less) and the child's peak resident memory (ru_maxrss) are printed. The
import is then repeated on the same store, the case of a file imported again (every run already stored).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HEADER = [
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate", "cpu_power",
    "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
    "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os", "python_version",
    "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
    "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
]


def write_csv(path: Path, rows: int, rows_per_run: int) -> None:
    """A CodeCarbon emissions.csv of ``rows`` rows, ``rows_per_run`` of them per run."""
    start = dt.datetime(2025, 3, 1, 12, 0, 0)
    namespace = uuid.UUID("6c0d5b1e-0000-4000-8000-000000000000")
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for index in range(rows):
            run, part = divmod(index, rows_per_run)
            duration = 60.0 * (part + 1) + run % 17
            cpu_w, ram_w = 42.5, 3.0
            cpu_kwh, ram_kwh = cpu_w * duration / 3.6e6, ram_w * duration / 3.6e6
            total = cpu_kwh + ram_kwh
            out.writerow([
                (start + dt.timedelta(seconds=run * 120 + duration)).isoformat(), f"project-{run % 7}",
                str(uuid.uuid5(namespace, str(run))), "5b0fa12a-3dd7-45bb-9766-cc326314d9f1", f"{duration:.3f}",
                f"{total * 0.056:.12g}", f"{total * 0.056 / duration:.12g}", cpu_w, 0.0, ram_w, f"{cpu_kwh:.12g}",
                0.0, f"{ram_kwh:.12g}", f"{total:.12g}", 0.0, "France", "FRA", "", "", "", "Linux-6.1-x86_64",
                "3.11.9", "2.8.3", 8, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", 0, "", 2.35, 48.85, 15.5,
                "machine", 37.5, 0.0, 21.0, 3.3, "N", 1.0, 0.0,
            ])


def run_import(csv_path: Path, store: str) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak RSS in MB of the child, and its first output line."""
    code = (
        "import sys; from wattprint.cli.main import main; "
        "sys.exit(main(['--store', sys.argv[1], 'import', 'codecarbon', sys.argv[2]]))"
    )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, store, str(csv_path)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = done.stdout.splitlines()
    if peak_kb == before:  # an earlier child was larger: the figure is an upper bound
        print("  (peak RSS no higher than an earlier child's; figure is that bound)")
    return wall, cpu, peak_kb / 1024, lines[0] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rows-per-run", type=int, default=1)
    parser.add_argument("--store", help="store path or URL (default: a fresh SQLite file)")
    parser.add_argument("--once", action="store_true", help="skip the second (re-)import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wattprint-bench-import-") as tmp:
        csv_path = Path(tmp) / "emissions.csv"
        write_csv(csv_path, args.rows, args.rows_per_run)
        size_mb = os.path.getsize(csv_path) / 1e6
        store = args.store or str(Path(tmp) / "runs.sqlite")
        print(f"CodeCarbon CSV: {args.rows:,} rows, {args.rows // args.rows_per_run:,} runs, {size_mb:.1f} MB")
        wall, cpu, peak_mb, said = run_import(csv_path, store)
        print(f"first import:  {wall:8.1f} s wall  {cpu:8.1f} s CPU  peak RSS {peak_mb:7.0f} MB  ({said})")
        if not args.once:
            wall, cpu, peak_mb, said = run_import(csv_path, store)
            print(f"second import: {wall:8.1f} s wall  {cpu:8.1f} s CPU  peak RSS {peak_mb:7.0f} MB  ({said})")


if __name__ == "__main__":
    main()
