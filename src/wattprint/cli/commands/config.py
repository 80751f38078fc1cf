"""wattprint config: the effective settings, and where each value came from."""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import os

    from wattprint.cli.common import error, print_json, warn
    from wattprint.report.console import settings_json, settings_text
    from wattprint.settings.config import KEYS, find_project_file, inspect_config, user_config_path

    config, problems, warnings = inspect_config({"store": args.store})
    settings = [s for s in config.settings() if not args.changed or s.source != "default"]
    if args.json:
        print_json(settings_json(settings, {key.name: key.env_var for key in KEYS}))
    else:
        found = find_project_file()
        user, _ = user_config_path()
        print(settings_text(settings, project_file=found[0] if found else None, user_config=user,
                            user_config_exists=os.path.exists(user)))
    for warning in warnings:
        warn(warning)
    for problem in problems:
        error(f"{problem} (ignored above)")
    return 1 if problems else 0
