"""``python -m wattprint``: the command line, for environments where the ``wattprint`` script is not on PATH."""

from wattprint.cli import main

raise SystemExit(main())
