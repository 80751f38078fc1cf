"""wattprint report: a run (or a project) as Markdown, HTML, LaTeX, or a Hugging Face model card block."""

from __future__ import annotations

import argparse
import sys

NAME = "report"
HELP = "report a run or a project as Markdown, HTML, LaTeX for a paper, or a model card co2_eq_emissions block"
EXAMPLES = """examples:
  wattprint report last -o report.html                 # the format follows the extension (.md, .html, .tex)
  wattprint report last -o report.txt --format md      # any name, with the format named
  wattprint report last --format latex                 # the paragraph and table for a paper
  wattprint report last --format model-card --training-type fine-tuning
  wattprint report last --update README.md             # merge co2_eq_emissions into a model card's front matter
  wattprint report --project mnist --format html -o mnist.html
  wattprint report last --server http://team:8000 -o report.html   # a run on a team server
  wattprint report torchrun-5f1c0e9a2b7d4e31 -o group.html   # a run group: per node, rank and device"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from wattprint.cli.common import LazyChoices  # the choices are read from the registry only when checked

    parser.add_argument("run", nargs="?", help="a run id, a unique prefix of one, 'last', or a run group's id")
    parser.add_argument("--project", help="report every run of this project instead of one run")
    parser.add_argument("--format", choices=LazyChoices("wattprint.report.formats:names"), default=None,
                        metavar="FORMAT",
                        help="%(choices)s (default: from the -o extension, else md)")
    parser.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument("--update", metavar="README", help="merge the co2_eq_emissions block into this model card")
    parser.add_argument("--training-type", default="pre-training",
                        help="the model card's training_type: pre-training (default) or fine-tuning")
    parser.add_argument("--no-chart", action="store_true", help="leave the chart out of the HTML report")
    parser.add_argument("--server", metavar="URL", help="read the run or project from this team server instead of a "
                                                        "store")
    parser.add_argument("--server-token", metavar="TOKEN",
                        help="the server's token (default: the server_token setting, WATTPRINT_SERVER_TOKEN)")


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.update:
        return "model-card"
    if args.output:
        from wattprint.report.render import format_for_path

        return format_for_path(args.output)
    return "md"


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, write_output
    from wattprint.core.errors import ConfigError
    from wattprint.report.console import report_what, updated_text
    from wattprint.report.render import render_report

    fmt = _format(args)
    what: str | None = None
    if (args.run is None) == (args.project is None):
        raise ConfigError("give one run (an id, a prefix or 'last') or --project P, not both and not neither")
    if args.update and fmt != "model-card":
        raise ConfigError(f"--update merges the model card block; it cannot be used with --format {fmt}")
    if args.server:
        from wattprint.client.remote import open_remote

        store = open_remote(args.server, args.server_token)
    else:
        store = open_store(args)
    try:
        try:
            text = render_report(store, fmt, run=args.run, project=args.project, training_type=args.training_type,
                                 chart=not args.no_chart, update=args.update)
        except LookupError as failure:
            if args.run is None or args.update:
                raise
            text = _group_report(store, args, fmt, failure)
            what = report_what(fmt, run=args.run, project=None).replace(" of run ", " of run group ", 1)
    finally:
        store.close()
    if args.update:
        print(updated_text(args.update), file=sys.stderr)
        if not args.output:
            return 0
    write_output(text, args.output, what=what or report_what(fmt, run=args.run, project=args.project))
    return 0


def _group_report(store: object, args: argparse.Namespace, fmt: str, failure: LookupError) -> str:
    """The report of the run group ``args.run`` names (docs/distributed.md), when no run has that id."""
    from wattprint.report.group_report import render_group

    try:
        if args.server:
            data = store.group(args.run)  # type: ignore[attr-defined]  # a RemoteRuns
        else:
            from wattprint.report.run_groups import group_json
            from wattprint.store.groups import group_totals

            data = group_json(group_totals(store, args.run))  # type: ignore[arg-type]  # a RunStore
    except LookupError:
        where = "on the server" if args.server else "in the store"
        raise LookupError(f"{failure.args[0] if failure.args else failure}; nor is {args.run!r} a run group {where} "
                          "(wattprint runs lists both)") from failure
    return render_group(data, fmt, chart=not args.no_chart)
