"""The ML.ENERGY table: the build reproduces it from the raw leaderboard CSV, every measurement is kept and cited."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

import wattprint.data as data

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "src" / "wattprint" / "data"
TABLE = "inference_energy.csv"


def _raw_dir() -> Path | None:
    env = os.environ.get("WATTPRINT_RAW_DATA")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if (candidate / "inference" / "mlenergy-leaderboard-v3.csv").is_file() else None


RAW = _raw_dir()
needs_raw = pytest.mark.skipif(
    RAW is None, reason="raw ML.ENERGY CSV not found ($WATTPRINT_RAW_DATA or ../shared/data)"
)


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_wattprint_build_data_inference", REPO / "scripts" / "build_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _raw_rows() -> list[dict[str, str]]:
    assert RAW is not None
    return list(csv.DictReader(io.StringIO((RAW / "inference" / "mlenergy-leaderboard-v3.csv").read_text("utf-8"))))


@needs_raw
def test_the_build_reproduces_the_committed_table_from_the_raw_csv(build: ModuleType) -> None:
    rows = build.build_inference(build.Build(RAW, quiet=True))
    assert build.csv_bytes(build.INFERENCE_COLUMNS, rows) == (DATA_DIR / TABLE).read_bytes()
    manifest = data.data_manifest()
    assert manifest["tables"][TABLE]["rows"] == len(rows)
    assert "inference/mlenergy-leaderboard-v3.csv" in manifest["raw_inputs"]


@needs_raw
def test_every_raw_measurement_is_in_the_table_to_five_significant_figures() -> None:
    raw = _raw_rows()
    table = data.inference_measurements()
    assert len(table) == len(raw)
    index: dict[tuple[str, str, str, int, int], list[float]] = {}
    for m in table:
        index.setdefault((m.task, m.model, m.gpu, m.num_gpus, m.batch), []).append(m.energy_j)
    for r in raw:
        llm = not r["task"].startswith("text-to")
        key = (r["task"], r["model_id"], r["gpu_model"], int(r["num_gpus"]),
               int(r["max_num_seqs"] if llm else r["batch_size"]))
        value = float(r["energy_per_token_joules"] or r["energy_per_image_joules"] or r["energy_per_video_joules"])
        assert any(abs(v - value) <= 5e-5 * value for v in index[key]), (key, value, index[key])


@needs_raw
def test_llm_rows_keep_energy_per_request_and_their_configuration() -> None:
    raw = {(r["model_id"], r["task"], r["gpu_model"], r["num_gpus"], r["max_num_seqs"]): r for r in _raw_rows()
           if r["max_num_seqs"]}
    chat = data.inference_measurements("lm-arena-chat", "H100")
    llama = [m for m in chat if m.model.endswith("Llama-3.1-8B-Instruct")]
    assert len(llama) >= 10
    for m in llama:
        r = raw[(m.model, m.task, m.gpu, str(m.num_gpus), str(m.batch))]
        assert m.energy_per_request_j == pytest.approx(float(r["energy_per_request_joules"]), rel=5e-5)
        assert m.avg_output_tokens == pytest.approx(float(r["avg_output_len"]), abs=0.05)
        assert (m.total_params_b, m.active_params_b, m.precision, m.architecture) == (8, 8, "bfloat16", "dense")
        assert m.upstream_file == r["model_file"]


def test_every_row_is_cited_and_configurations_are_told_apart() -> None:
    rows = data.inference_measurements()
    assert {m.source for m in rows} == {"ML.ENERGY Leaderboard v3"}
    assert {m.licence for m in rows} == {"facts (cited)"} and {m.year for m in rows} == {2026}
    keys = Counter((m.task, m.model, m.precision, m.gpu, m.num_gpus, m.batch, m.variant) for m in rows)
    assert max(keys.values()) == 1
    assert {m.gpu for m in rows} == {"H100", "B200"}
    images = [m for m in rows if m.task == "text-to-image"]
    assert images and all(m.energy_per_image_j and m.steps and m.width == 1024 for m in images)
    assert all(m.energy_per_token_j and m.energy_per_request_j for m in rows if m.task == "lm-arena-chat")
    text = data.attribution_text()
    assert "ML.ENERGY Leaderboard" in text and "Chung et al." in text and "Raw data folder: `inference/`" in text
