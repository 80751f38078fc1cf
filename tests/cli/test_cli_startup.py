"""Building the command line stays cheap: the lazy ``--intensity-provider`` and ``--format`` choices are not read (no
provider registry, no entry-point scan) until argparse checks a value or prints help."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_parser_reads_no_registry() -> None:
    script = (
        "import sys\n"
        "from wattprint.cli.main import build_parser\n"
        "build_parser()\n"
        "registries = ('wattprint.carbon.providers', 'wattprint.report.formats', 'importlib.metadata')\n"
        "loaded = [m for m in registries if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
