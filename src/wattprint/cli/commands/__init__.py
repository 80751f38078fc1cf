"""One module per ``wattprint`` command. Each defines ``NAME``, ``HELP``, ``EXAMPLES``,
``add_arguments(parser)`` and ``run(args, parser) -> int``, and imports what it needs inside ``run``."""

COMMANDS = ("run", "monitor", "runs", "show", "export", "regions", "doctor", "config", "estimate", "compare_regions",
            "report", "imports", "plan", "bench_inference", "push", "server", "agent")
"""Command modules, in the order ``wattprint --help`` lists them."""
