"""Config fingerprints: which runs trained the same thing, so repeated trainings can be found.

A fingerprint is the SHA-256 of a canonical JSON document holding

- the hyperparameters the user gave (``hyperparameters=``; a framework callback passes the framework's own),
- the code version: the git commit checked out in the working directory's repository, read from the files in
  ``.git`` (HEAD, the branch ref, ``packed-refs``; worktrees and submodules too), with no ``git`` subprocess.
  Uncommitted changes are not seen: a dirty tree has its commit's fingerprint. Without a repository the code
  version is ``null`` (put a version of your own in the hyperparameters then),
- the entry script: ``sys.argv[0]`` relative to the repository root (its file name outside one), so two
  scripts with the same settings at one commit differ.

Canonical JSON: keys sorted, no whitespace, floats that are whole numbers written as integers (``1.0`` and
``1`` are the same learning-rate schedule), tuples and lists alike, sets sorted. Values must be JSON-like
(numbers, strings, booleans, None, mappings, sequences) or dataclasses, enums, paths or numpy-style scalars;
anything else is a ConfigError naming where it was, since its text form could change from run to run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Mapping

from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def canonical(value: object, where: str = "hyperparameters") -> Any:
    """``value`` as plain JSON data, in one canonical form (see the module docstring)."""
    import dataclasses
    import enum
    import pathlib

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return canonical(value.value, where)
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, where)
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConfigError(f"{where}: keys must be strings or numbers, got {key!r}")
            result[str(key)] = canonical(item, f"{where}[{key!r}]")
        return result
    if isinstance(value, (list, tuple)):
        return [canonical(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [canonical(item, f"{where}{{…}}") for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    item_method = getattr(value, "item", None)  # numpy and torch scalars
    if callable(item_method) and getattr(value, "ndim", None) == 0:
        return canonical(item_method(), where)
    raise ConfigError(
        f"{where} = {value!r} ({type(value).__name__}) cannot be fingerprinted: use numbers, strings, booleans, "
        "None, lists and mappings of them (its text form may change from run to run)"
    )


def canonical_json(value: object) -> str:
    """The canonical JSON text of ``value``."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(hyperparameters: Mapping[str, Any], *, code_version: str | None, entry_point: str | None) -> str:
    """The SHA-256 (hex) of the canonical JSON of the hyperparameters, the code version and the entry point."""
    if not isinstance(hyperparameters, Mapping):
        raise ConfigError(
            f"hyperparameters must be a mapping of names to values, got {type(hyperparameters).__name__}"
        )
    document = {"hyperparameters": hyperparameters, "code_version": code_version, "entry_point": entry_point}
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


# -- the code version ----------------------------------------------------------------------------------------------


def find_repository(start: str | None = None) -> tuple[str, str] | None:
    """(work tree root, git directory) of the repository holding ``start`` (default: the working directory)."""
    try:
        directory = os.path.abspath(start if start is not None else os.getcwd())
    except OSError:
        return None
    while True:
        dot_git = os.path.join(directory, ".git")
        if os.path.isdir(dot_git):
            return directory, dot_git
        if os.path.isfile(dot_git):  # a worktree or submodule: "gitdir: <path>"
            text = _read(dot_git)
            if text and text.startswith("gitdir:"):
                git_dir = text[len("gitdir:"):].strip()
                if not os.path.isabs(git_dir):
                    git_dir = os.path.normpath(os.path.join(directory, git_dir))
                return directory, git_dir
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def git_commit(start: str | None = None) -> str | None:
    """The commit checked out in the repository holding ``start`` (default: the working directory), or None."""
    found = find_repository(start)
    if found is None:
        return None
    git_dir = found[1]
    common = git_dir
    common_file = _read(os.path.join(git_dir, "commondir"))
    if common_file:
        common = os.path.normpath(os.path.join(git_dir, common_file.strip()))
    head = _read(os.path.join(git_dir, "HEAD"))
    if head is None:
        return None
    head = head.strip()
    for _ in range(5):  # symbolic refs may point at symbolic refs
        if not head.startswith("ref:"):
            return head if _SHA.match(head) else None
        ref = head[len("ref:"):].strip()
        value = _read(os.path.join(git_dir, ref)) or _read(os.path.join(common, ref))
        if value is None:
            value = _packed_ref(common, ref)
        if value is None:
            return None  # a branch with no commit yet
        head = value.strip()
    return None


def _packed_ref(git_dir: str, ref: str) -> str | None:
    text = _read(os.path.join(git_dir, "packed-refs"))
    if not text:
        return None
    for line in text.splitlines():
        if line.startswith(("#", "^")):
            continue
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1].strip() == ref:
            return parts[0]
    return None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(1 << 16)
    except (OSError, UnicodeDecodeError):
        return None


def entry_point(root: str | None = None) -> str | None:
    """The script this process runs (``sys.argv[0]``), relative to ``root`` when inside it, else its file name."""
    argv = getattr(sys, "argv", None) or [""]
    script = argv[0]
    if not script or script == "-c":
        return script or None
    path = os.path.abspath(script)
    if root is not None:
        try:
            relative = os.path.relpath(path, root)
        except ValueError:
            relative = ""
        if relative and not relative.startswith(os.pardir):
            return relative.replace(os.sep, "/")
    return os.path.basename(path)


def run_fingerprint(hyperparameters: Mapping[str, Any], start: str | None = None) -> tuple[str, dict[str, Any]]:
    """The fingerprint of a run with these hyperparameters started here, and what went into it (for the record)."""
    found = find_repository(start)
    code_version = git_commit(start) if found is not None else None
    entry = entry_point(found[0] if found is not None else None)
    digest = fingerprint(hyperparameters, code_version=code_version, entry_point=entry)
    return digest, {
        "hyperparameters": canonical(hyperparameters),
        "code_version": code_version,
        "entry_point": entry,
    }
