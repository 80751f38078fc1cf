"""Reading back what a W&B run wrote in offline mode: the records of its ``run-<id>.wandb`` file (W&B's
transaction log, the file ``wandb sync`` uploads: LevelDB's log format of 32 KiB blocks, each record a
``wandb_internal_pb2.Record`` protobuf), decoded with W&B's own protobuf classes."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BLOCK = 32 * 1024
HEADER = struct.Struct("<4sHB")  # ":W&B", magic 0xBEE1, version
RECORD = struct.Struct("<IHB")  # checksum, length, type (1 full, 2 first, 3 middle, 4 last)


def records(path: Path) -> list[Any]:
    """Every record of a ``.wandb`` file, in order."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    ident, magic, _ = HEADER.unpack_from(data, 0)
    assert ident == b":W&B" and magic == 0xBEE1, f"{path} is not a W&B transaction log"
    offset, pieces, found = HEADER.size, b"", []
    while offset + RECORD.size <= len(data):
        left_in_block = BLOCK - offset % BLOCK
        if left_in_block < RECORD.size:  # the block's tail is padding
            offset += left_in_block
            continue
        _, length, kind = RECORD.unpack_from(data, offset)
        if kind == 0 and length == 0:
            offset += left_in_block
            continue
        start = offset + RECORD.size
        pieces += data[start:start + length]
        offset = start + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pieces)
            found.append(record)
            pieces = b""
    return found


@dataclass
class OfflineRun:
    """What an offline run logged: its history rows, latest summary and config, and the artifacts' files."""

    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    artifacts: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(name, type, the paths of its files)."""


def _key(item: Any) -> str:
    return "/".join(item.nested_key) if item.nested_key else item.key


def finished_records(run_dir: Path, timeout: float = 60.0) -> list[Any]:
    """The records of a finished run, once its service has written them all (its ``exit`` record): W&B's service
    may still be writing the file when ``finish()`` returns."""
    from tests.fakes.wait import wait_for

    def complete() -> list[Any] | None:
        logs = list(run_dir.glob("run-*.wandb"))
        if len(logs) != 1 or logs[0].stat().st_size < HEADER.size:
            return None
        try:
            found = records(logs[0])
        except Exception:  # noqa: BLE001 - a record still being written: read again
            return None
        return found if any(r.WhichOneof("record_type") == "exit" for r in found) else None

    found: list[Any] = wait_for(complete, f"the exit record of the W&B run in {run_dir}", timeout)
    return found


def read_run(run_dir: Path) -> OfflineRun:
    """The run of one ``offline-run-*`` directory, once it has finished."""
    run = OfflineRun()
    for record in finished_records(run_dir):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            run.history.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "summary":
            run.summary.update({_key(item): json.loads(item.value_json) for item in record.summary.update})
        elif kind == "config":
            for item in record.config.update:
                value = json.loads(item.value_json)
                run.config[_key(item)] = value.get("value", value) if isinstance(value, dict) else value
        elif kind == "run":
            for item in record.run.config.update:
                value = json.loads(item.value_json)
                run.config[_key(item)] = value.get("value", value) if isinstance(value, dict) else value
        elif kind == "artifact":
            art = record.artifact
            run.artifacts.append((art.name, art.type, [entry.path for entry in art.manifest.contents]))
    return run
