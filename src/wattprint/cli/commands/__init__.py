"""One module per ``wattprint`` command. Each defines ``NAME``, ``HELP``, ``EXAMPLES``,
``add_arguments(parser)`` and ``run(args, parser) -> int``, and imports what it needs inside ``run``."""

COMMANDS = ("run", "runs", "show", "export", "regions", "doctor", "estimate", "compare_regions", "report", "imports",
            "plan")
"""Command modules, in the order ``wattprint --help`` lists them."""
