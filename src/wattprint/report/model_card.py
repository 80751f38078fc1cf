"""The Hugging Face model card ``co2_eq_emissions`` block, and merging it into a model card's YAML front matter.

The block has the keys the Hub documents: ``emissions`` (a number, in grams of CO2e), ``source``,
``training_type``, ``geographical_location`` and ``hardware_used``. :func:`update_model_card` replaces (or adds)
only the ``co2_eq_emissions`` key of an existing README.md: the other lines of the front matter and the body are
kept byte for byte, and when PyYAML is installed the result is parsed back and checked before it is written.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.report.content import RunContent

KEY = "co2_eq_emissions"
TRAINING_TYPES = ("pre-training", "fine-tuning")
"""The two values the Hub's model card guide names; other text is accepted but not recognised by the Hub."""

# The front matter as the Hub finds it: a '---' line at the very start, the YAML, a '---' line.
_FRONT_MATTER = re.compile(r"\A(\s*---(?:\r\n|\r|\n))([\s\S]*?)((?:\r\n|\r|\n)---[ \t]*(?:\r\n|\n|$))")
_TOP_LEVEL_KEY = re.compile(r"""^(["']?)co2_eq_emissions\1[ \t]*:(?:[ \t]|$)""")


def co2_eq_emissions(
    content: RunContent | Sequence[RunContent],
    *,
    training_type: str = "pre-training",
    source: str | None = None,
) -> dict[str, Any]:
    """The ``co2_eq_emissions`` block of one run, or of several runs (their emissions summed)."""
    items = [content] if not isinstance(content, Sequence) else list(content)
    if not items:
        raise ConfigError("co2_eq_emissions needs at least one run")
    missing = [c.run.run_id[:12] for c in items if c.run.emissions_g is None]
    if missing:
        raise ConfigError(f"run(s) {', '.join(missing)} have no emissions recorded (carbon accounting was off); "
                          "the model card needs them")
    if not isinstance(training_type, str) or not training_type.strip():
        raise ConfigError(f"training_type must be text such as {' or '.join(TRAINING_TYPES)}, got {training_type!r}")
    grams = sum(c.run.emissions_g or 0.0 for c in items)
    return {
        "emissions": float(f"{grams:.6g}"),
        "source": source or _source(items),
        "training_type": training_type,
        "geographical_location": _joined(c.location_name for c in items),
        "hardware_used": _joined(c.hardware_phrase() for c in items),
    }


def _joined(values: Any) -> str:
    return "; ".join(dict.fromkeys(values))


def _source(items: Sequence[RunContent]) -> str:
    imported = sorted({c.imported_from for c in items if c.imported_from})
    versions = sorted({c.run.wattprint_version for c in items if not c.imported_from})
    runs = f"{len(items)} runs" if len(items) > 1 else f"run {items[0].run.run_id[:12]}"
    parts = []
    if versions:
        tool = f"wattprint {', '.join(versions)}"
        phrases = list(dict.fromkeys(c.obtained_phrase(tool) for c in items if not c.imported_from))
        parts.append(phrases[0] if len(phrases) == 1 else "measured or estimated with a power model (per run) by "
                     + tool)
    if imported:
        parts.append(f"imported from {', '.join(imported)}")
    uncertainty = ""
    if len(items) == 1 and items[0].run.emissions_uncertainty_rel is not None:
        uncertainty = f", ±{items[0].run.emissions_uncertainty_rel:.0%}"
    return f"wattprint (https://github.com/wattprint/wattprint): {' and '.join(parts)} ({runs}{uncertainty})"


def _yaml_scalar(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unexpected value {value!r} in the co2_eq_emissions block")
    if isinstance(value, (int, float)):
        text = repr(float(value))
        mantissa, sep, exponent = text.partition("e")
        if sep and "." not in mantissa:  # YAML 1.1 (PyYAML) reads '1e-05' as a string, '1.0e-05' as a float
            text = f"{mantissa}.0e{exponent}"
        return text
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def block_yaml(block: dict[str, Any], *, line_break: str = "\n") -> str:
    """The block as YAML: ``co2_eq_emissions:`` and its keys, two spaces in."""
    lines = [f"{KEY}:"] + [f"  {key}: {_yaml_scalar(value)}" for key, value in block.items()]
    return line_break.join(lines) + line_break


def model_card_text(block: dict[str, Any]) -> str:
    """A model card with only this front matter (what ``--format model-card`` writes)."""
    return f"---\n{block_yaml(block)}---\n"


def merge_front_matter(text: str, block: dict[str, Any]) -> str:
    """``text`` (a model card) with its ``co2_eq_emissions`` replaced by ``block``, everything else unchanged.

    A card without front matter gets one at the top. The key keeps its place if it was there, else goes last.
    """
    line_break = "\r\n" if "\r\n" in text else "\n"
    match = _FRONT_MATTER.match(text)
    if match is None:
        return f"---{line_break}{block_yaml(block, line_break=line_break)}---{line_break}{text}"
    opening, body, closing = match.group(1), match.group(2), match.group(3)
    lines = body.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _TOP_LEVEL_KEY.match(line)), None)
    new_block = block_yaml(block, line_break=line_break)
    if start is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += line_break
        merged = "".join(lines) + new_block
    else:
        end = start + 1
        while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():  # blank lines before the next key stay
            end -= 1
        tail = "".join(lines[end:])
        merged = "".join(lines[:start]) + new_block + tail
    if merged.endswith(("\n", "\r")):  # the closing '---' brings its own line break
        merged = merged[: -len(line_break)] if merged.endswith(line_break) else merged[:-1]
    return text[: match.start()] + opening + merged + closing + text[match.end():]


def _check(original: str, merged: str, block: dict[str, Any], path: Path) -> None:
    """With PyYAML: the front matter must load as a mapping, and the merged one must hold ``block`` and keep every
    other key as it was."""
    try:
        import yaml
    except ImportError:
        return

    def data(text: str) -> dict[str, Any]:
        match = _FRONT_MATTER.match(text)
        try:
            loaded = yaml.safe_load(match.group(2)) if match else {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: its YAML front matter does not parse ({error}); fix it first") from None
        if loaded is None:
            return {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: its front matter is not a mapping of keys; the Hub would reject it")
        return loaded

    before = data(original)
    after = data(merged)
    before.pop(KEY, None)
    found = after.pop(KEY, None)
    if found != block or after != before:
        raise ConfigError(
            f"{path}: merging {KEY} would change other keys of the front matter (an unusual layout of the "
            f"{KEY} key?); the file was left as it was. Edit it by hand with the block from --format model-card"
        )


def update_model_card(path: str | os.PathLike[str], block: dict[str, Any]) -> None:
    """Merge ``block`` into the model card at ``path`` (it must exist), replacing the file atomically."""
    target = Path(path)
    if not target.is_file():
        raise ConfigError(f"{target}: no such model card; write a new one with --format model-card -o {target}")
    raw = target.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        original = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{target}: not UTF-8 text ({error})") from None
    merged = merge_front_matter(original, block)
    _check(original, merged, block, target)
    data = (b"\xef\xbb\xbf" if bom else b"") + merged.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
