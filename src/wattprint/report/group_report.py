"""A run group's report (``wattprint report GROUP``, the dashboard's group downloads) in Markdown, HTML or LaTeX,
made from the group's JSON (``run_groups.group_json`` or a team server's ``GET /api/v1/groups/{id}``): the totals
with their method and ±, then per node, per rank (part) and per device, each device counted once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from wattprint.core.formatting import format_duration, format_emissions, format_energy

GROUP_FORMATS = ("md", "html", "latex")
"""The formats a group's report has (a model card describes one training, not a group of parts)."""

COUNTED_ONCE = ("Each device is counted once: a node's CPU and RAM from its leader (the part that measured the "
                "machine), each rank's own GPUs from its part; elastic restarts are attempts whose energy all counts.")


def _pm(rel: float | None) -> str:
    return "" if rel is None else f" ± {rel * 100:.2g} %"


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, value) for the group's totals, each figure with its method and ±."""
    method = data.get("method") or "not recorded"
    emissions = ("not priced" if data["emissions_g"] is None
                 else format_emissions(data["emissions_g"]) + _pm(data.get("emissions_uncertainty_rel")))
    return [
        ("group", data["group_id"]), ("launcher", data["launcher"]), ("project", data["project"] or "-"),
        ("name", data["name"] or "-"), ("status", data["status"]),
        ("started", (data["started_at"] or "")[:19].replace("T", " ") + " UTC"),
        ("wall time", format_duration(data["duration_s"]) + " (first start to last end)"),
        ("energy (IT)", f"{format_energy(data['energy_j'])}{_pm(data.get('energy_uncertainty_rel'))} ({method})"),
        ("emissions", emissions),
        ("parts", f"{len(data['parts'])} on {len(data['nodes'])} node(s), world size {data['world_size'] or '?'}"),
        ("attempts", str(data["attempts"])),
    ]


NODE_HEADER = ("node", "host", "parts", "energy", "leader")
PART_HEADER = ("rank", "node", "attempt", "part", "status", "duration", "energy", "role")
DEVICE_HEADER = ("node", "component", "device", "energy", "method", "reported by")


def node_rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    return [(n["node"], n["hostname"], str(n["parts"]), format_energy(n["energy_j"]),
             (n["leader_run_id"] or "none")[:12]) for n in data["nodes"]]


def part_rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    return [("?" if p["rank"] is None else str(p["rank"]), p["node"], str(p["attempt"]), p["run_id"][:12],
             p["status"], format_duration(p["duration_s"]), format_energy(p["energy_j"]),
             "leader" if p["measures_host"] else "own devices") for p in data["parts"]]


def device_rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    return [(d["node"], d["component"], d["device"], format_energy(d["energy_j"]), d["method"],
             f"{d['reported_by']} part(s)") for d in data["devices"]]


SECTIONS: tuple[tuple[str, Sequence[str], Callable[[dict[str, Any]], list[tuple[str, ...]]]], ...] = (
    ("Per node", NODE_HEADER, node_rows), ("Per rank (part)", PART_HEADER, part_rows),
    ("Per device", DEVICE_HEADER, device_rows))


def group_markdown(data: dict[str, Any]) -> str:
    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
        cell = lambda v: str(v).replace("|", "\\|")  # noqa: E731
        return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])

    lines = [f"# Run group {data['group_id']}", "", *table(("", ""), summary_rows(data)), "", COUNTED_ONCE]
    for title, header, rows in SECTIONS:
        lines += ["", f"## {title}", "", *table(header, rows(data))]
    if data["notes"]:
        lines += ["", "## Notes", "", *[f"- {note}" for note in data["notes"]]]
    return "\n".join(lines) + "\n"


def group_html(data: dict[str, Any], chart: bool = True) -> str:
    from wattprint._version import __version__
    from wattprint.report.html import STYLE, esc, html_table, png_figure

    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Run group "
             f"{esc(data['group_id'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>Run group {esc(data['group_id'])}</h1>",
             html_table(("", ""), summary_rows(data), table_id="summary"),
             f"<p class=\"muted\">{esc(COUNTED_ONCE)}</p>"]
    if chart:
        png, why = node_chart(data)
        parts.append(png_figure(png, "energy per node and rank", "Energy each part adds, stacked per node") if png
                     else f"<p class=\"muted\">No chart: {esc(why)}.</p>")
    for title, header, rows in SECTIONS:
        parts += [f"<h2>{esc(title)}</h2>", html_table(header, rows(data), numeric=(header.index("energy"),))]
    if data["notes"]:
        parts += ["<h2>Notes</h2><ul>", *[f"<li>{esc(note)}</li>" for note in data["notes"]], "</ul>"]
    parts.append(f"<p class=\"muted\">wattprint {esc(__version__)}</p></body></html>")
    return "\n".join(parts) + "\n"


def group_latex(data: dict[str, Any]) -> str:
    from wattprint.report.tex import escape

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
        return [r"\begin{tabular}{" + "l" * len(header) + "}", r"\hline",
                " & ".join(escape(h) for h in header) + r" \\ \hline",
                *[" & ".join(escape(v) for v in row) + r" \\" for row in rows], r"\hline", r"\end{tabular}"]

    lines = [f"% wattprint: run group {escape(data['group_id'])}", r"\begin{table}[ht]", r"\centering",
             *table(("", ""), summary_rows(data)), r"\caption{" + escape(f"Run group {data['group_id']}. "
                                                                         + COUNTED_ONCE) + "}", r"\end{table}"]
    for title, header, rows in SECTIONS:
        lines += [r"\begin{table}[ht]", r"\centering", *table(header, rows(data)),
                  r"\caption{" + escape(f"Run group {data['group_id']}: {title.lower()}") + "}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def node_chart(data: dict[str, Any]) -> tuple[bytes | None, str]:
    """Energy per node, stacked by the parts (ranks) on it: (PNG, "") or (None, why not)."""
    from wattprint.report.charts import MISSING, _figure, _png, matplotlib_available

    if not data["parts"]:
        return None, "the group has no parts"
    if not matplotlib_available():
        return None, MISSING
    from wattprint.core.formatting import energy_unit

    joules, unit = energy_unit(max((n["energy_j"] for n in data["nodes"]), default=0.0))
    nodes = [n["node"] for n in data["nodes"]]
    figure = _figure(8.0, 1.2 + 0.5 * len(nodes))
    axes = figure.add_subplot()
    left = [0.0] * len(nodes)
    for part in data["parts"]:
        widths = [part["energy_j"] / joules if part["node"] == node else 0.0 for node in nodes]
        rank = "?" if part["rank"] is None else part["rank"]
        axes.barh(nodes, widths, left=left, label=f"rank {rank}" + (f" (attempt {part['attempt']})"
                                                                   if data["attempts"] > 1 else ""))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_xlabel(f"energy ({unit})")
    axes.set_ylabel("node")
    axes.set_title("Energy each part adds, per node")
    if len(data["parts"]) <= 16:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    return _png(figure), ""


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {"md": group_markdown, "html": group_html,
                                                          "latex": group_latex}


def render_group(data: dict[str, Any], fmt: str, *, chart: bool = True) -> str:
    """The group's report in ``fmt`` (md, html, latex); ConfigError naming those for any other."""
    if fmt not in _RENDERERS:
        from wattprint.core.errors import ConfigError

        raise ConfigError(f"a run group's report is written as {', '.join(GROUP_FORMATS)}, not {fmt}: give --format "
                          "md, html or latex (for its JSON: wattprint show GROUP --json)")
    if fmt == "html":
        return group_html(data, chart=chart)
    return _RENDERERS[fmt](data)
