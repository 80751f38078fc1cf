"""LaTeX escaping: any text from a run (names, sources, notes) made safe inside a paragraph or a table cell."""

from __future__ import annotations

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "±": r"$\pm$",
    "×": r"$\times$",
    "≈": r"$\approx$",
    "·": r"$\cdot$",
    "…": r"\ldots{}",
    "–": "--",
    "—": "---",
    "→": r"$\rightarrow$",
    "µ": r"$\mu$",
    "°": r"$^\circ$",
    "\n": " ",
}


def escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (safe inside a paragraph or a table cell)."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))
