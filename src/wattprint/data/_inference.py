"""Measured inference energy: the ML.ENERGY Leaderboard v3 configurations (GPU energy only), one row each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._io import opt_float, opt_int, read_table

__all__ = ["INFERENCE_TABLE", "InferenceMeasurement", "inference_measurements"]

INFERENCE_TABLE = "inference_energy.csv"


@dataclass(frozen=True)
class InferenceMeasurement:
    """One measured configuration: a model serving a task on ``num_gpus`` GPUs at one batch limit.

    Energies are the GPU's only (NVML counters over a steady-state window), per output token and per request for
    LLM tasks (``batch`` is vLLM's ``max_num_seqs``), per image or video for diffusion tasks (``batch`` is the batch
    size). ``variant`` numbers measurements that share model, GPUs and batch (different parallel layouts).
    """

    task: str
    model: str
    architecture: str
    total_params_b: float
    active_params_b: float
    precision: str
    gpu: str
    num_gpus: int
    batch: int
    variant: int
    avg_batch_size: float | None
    energy_per_token_j: float | None
    energy_per_request_j: float | None
    avg_output_tokens: float | None
    energy_per_image_j: float | None
    energy_per_video_j: float | None
    avg_power_w: float | None
    height: int | None
    width: int | None
    steps: int | None
    frames: int | None
    source: str
    year: int
    licence: str

    @property
    def upstream_file(self) -> str:
        """The leaderboard's data file this figure comes from (``public/data/models/`` in its repository)."""
        return f"{self.model.replace('/', '__')}__{self.task}.json"

    @property
    def energy_j(self) -> float:
        """The figure per unit of this task: J per output token, per image or per video."""
        value = self.energy_per_token_j or self.energy_per_image_j or self.energy_per_video_j
        assert value is not None  # the build keeps only rows with their figure
        return value


@cache
def _all() -> tuple[InferenceMeasurement, ...]:
    return tuple(
        InferenceMeasurement(
            task=r["task"],
            model=r["model"],
            architecture=r["architecture"],
            total_params_b=float(r["total_params_b"]),
            active_params_b=float(r["active_params_b"]),
            precision=r["precision"],
            gpu=r["gpu"],
            num_gpus=int(r["num_gpus"]),
            batch=int(r["batch"]),
            variant=int(r["variant"]),
            avg_batch_size=opt_float(r["avg_batch_size"]),
            energy_per_token_j=opt_float(r["energy_per_token_j"]),
            energy_per_request_j=opt_float(r["energy_per_request_j"]),
            avg_output_tokens=opt_float(r["avg_output_tokens"]),
            energy_per_image_j=opt_float(r["energy_per_image_j"]),
            energy_per_video_j=opt_float(r["energy_per_video_j"]),
            avg_power_w=opt_float(r["avg_power_w"]),
            height=opt_int(r["height"]),
            width=opt_int(r["width"]),
            steps=opt_int(r["steps"]),
            frames=opt_int(r["frames"]),
            source=r["source"],
            year=int(r["year"]),
            licence=r["licence"],
        )
        for r in read_table(INFERENCE_TABLE)
    )


def inference_measurements(task: str | None = None, gpu: str | None = None) -> tuple[InferenceMeasurement, ...]:
    """The measured configurations, optionally of one ``task`` (``"lm-arena-chat"``, ``"text-to-image"``, ...) and
    one ``gpu`` family (``"H100"``, ``"B200"``), in table order."""
    return tuple(m for m in _all() if (task is None or m.task == task) and (gpu is None or m.gpu == gpu))
