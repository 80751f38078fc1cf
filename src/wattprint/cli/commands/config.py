"""wattprint config: the effective settings, and where each value came from."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "config"
HELP = "show the effective settings and where each value came from (argument, environment, file, default)"
EXAMPLES = """examples:
  wattprint config                      # every setting, its value and its source
  wattprint config --changed            # only the settings that are not defaults
  wattprint config --json               # the same as a JSON list
  wattprint config --store off          # what a command given --store off would use

Precedence, highest first: command-line options, WATTPRINT_* environment variables, the nearest wattprint.toml
(or [tool.wattprint] in pyproject.toml) from the working directory upwards, the user config file
(WATTPRINT_CONFIG, else the per-user config.toml), the default."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--changed", action="store_true", help="only the settings that are not defaults")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {key, value, origin, source}")


def origin(source: str) -> str:
    """The kind of a setting's source: argument, environment, project file, user config or default."""
    if source == "argument" or source == "default":
        return source
    if source.startswith("environment variable"):
        return "environment"
    if source.startswith("user config"):
        return "user config"
    return "project file"


def _shown(value: Any) -> Any:
    """A value as JSON shows it (secrets stay masked, tuples become lists)."""
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import sys

    from wattprint.cli.common import print_json
    from wattprint.settings.config import KEYS, inspect_config

    config, problems, warnings = inspect_config({"store": args.store})
    settings = [s for s in config.settings() if not args.changed or s.source != "default"]
    env_vars = {key.name: key.env_var for key in KEYS}
    if args.json:
        print_json([{"key": s.key, "value": _shown(s.value), "origin": origin(s.source), "source": s.source,
                     "environment_variable": env_vars[s.key]} for s in settings])
    else:
        rows = [(s.key, "-" if s.value is None else _text(s.value), s.source) for s in settings]
        if rows:
            width = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(("key", "value"))]
            print(f"{'key':<{width[0]}}  {'value':<{width[1]}}  source")
            for key, value, source in rows:
                print(f"{key:<{width[0]}}  {value:<{width[1]}}  {source}")
        else:
            print("every setting has its default ('wattprint config' lists them)")
        print(_files())
    for warning in warnings:
        print(f"wattprint: warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"wattprint: error: {problem} (ignored above)", file=sys.stderr)
    return 1 if problems else 0


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _files() -> str:
    """Which project file and user config file the settings were read from (or would be)."""
    import os

    from wattprint.settings.config import find_project_file, user_config_path

    found = find_project_file()
    project = found[0] if found else "none (no wattprint.toml or [tool.wattprint] from here upwards)"
    user, _ = user_config_path()
    state = "" if os.path.exists(user) else " (not present)"
    return f"\nproject file: {project}\nuser config:  {user}{state}"
