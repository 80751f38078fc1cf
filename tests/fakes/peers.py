"""The peers run for real, briefly and offline, to write their own files (CodeCarbon's emissions.csv,
Carbontracker's logs) for the importers and the JavaScript client to read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Network access of the tools ends at a closed port on loopback, as on a machine with no network: Carbontracker
# then finds no location and says so in its own log, and CodeCarbon (offline tracker) asks nothing.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}

CODECARBON = """
import time
from codecarbon import OfflineEmissionsTracker

def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(1000))

first = OfflineEmissionsTracker(country_iso_code="FRA", output_dir={out!r}, save_to_file=True,
                                measure_power_secs=0.3, log_level="error", allow_multiple_runs=True)
first.start()
busy(0.6)
first.flush()        # a row with the running totals
busy(0.4)
first.stop()         # the same run's final row
second = OfflineEmissionsTracker(country_iso_code="USA", region="california", output_dir={out!r},
                                 save_to_file=True, measure_power_secs=0.3, log_level="error",
                                 allow_multiple_runs=True, pue=1.5, project_name="cc-project")
second.start()
busy(0.5)
second.stop()
"""

CARBONTRACKER = """
import time
from carbontracker.tracker import CarbonTracker

# This machine has no RAPL and no GPU: Carbontracker's own simulated-CPU option stands in for the hardware.
tracker = CarbonTracker(epochs=2, log_dir={out!r}, sim_cpu="Simulated Xeon", sim_cpu_tdp=60, sim_cpu_util=0.5,
                        update_interval=0.1, verbose=1)
for epoch in range(2):
    tracker.epoch_start()
    end = time.perf_counter() + 0.6
    while time.perf_counter() < end:
        sum(range(1000))
    tracker.epoch_end()
tracker.stop()
"""


def produce(script: str, out: Path) -> None:
    """Run one of the scripts above with its output in ``out`` (no wattprint settings, no network)."""
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}
    env.update(OFFLINE)
    done = subprocess.run([sys.executable, "-c", script.format(out=str(out))], cwd=out, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
