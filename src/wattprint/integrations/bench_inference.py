"""Benchmark a local model's inference energy the way the ML.ENERGY benchmark and the AI Energy Score do: a fixed
set of prompts sent in batches of a fixed size, a warm-up left out, and the figures taken over the steady state
(``wattprint bench-inference``, docs/inference.md).

The model is loaded from a local directory with ``transformers`` (imported here, lazily): nothing is downloaded.
The warm-up batches run before the measured run starts; the measured requests go back to back, so the steady
window (every request of a full batch in flight) leaves out the last, partial batch. Tasks are a registry.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from wattprint.core.errors import ConfigError
from wattprint.core.plugins import Registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.core.results import RunResult
    from wattprint.run.request_figures import InferenceResult

ENTRY_POINT_GROUP = "wattprint.bench_tasks"
"""Other packages add tasks under this entry point group: a class with a ``name`` (see :class:`TextGeneration`)."""


@dataclass(frozen=True)
class BenchResult:
    """A benchmark's run (stored like any other, with its request sums) and its inference figures."""

    run: RunResult
    inference: InferenceResult
    model: str
    task: str
    batch_size: int
    requests: int
    warmup_batches: int
    max_new_tokens: int
    facts: dict[str, Any]
    """What was loaded: the model's class, parameter count, dtype."""

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "task": self.task, "batch_size": self.batch_size, "requests": self.requests,
                "warmup_batches": self.warmup_batches, "max_new_tokens": self.max_new_tokens, **self.facts,
                "run_id": self.run.run_id, "energy_j": self.run.energy_j,
                "inference": self.inference.to_dict()}


def read_prompts(path: str) -> list[str]:
    """The prompts of a file: one per line (blank lines skipped), or JSON Lines with a ``prompt`` (or ``text``)."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except OSError as error:
        raise ConfigError(f"cannot read the prompts file {path}: {error.strerror or error}; give --prompts FILE "
                          "with one prompt per line") from None
    prompts = []
    for number, line in enumerate(lines, 1):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            text = value.get("prompt", value.get("text")) if isinstance(value, dict) else None
            if not isinstance(text, str):
                raise ConfigError(f"{path} line {number}: a JSON line needs a \"prompt\" string")
            prompts.append(text)
        else:
            prompts.append(line)
    if not prompts:
        raise ConfigError(f"the prompts file {path} holds no prompt; give one prompt per line")
    return prompts


class TextGeneration:
    """A causal language model and its tokenizer from a local directory: prompts left-padded, greedy decoding, every
    ``generate`` measured as one request per prompt with its tokens (``track_generation``)."""

    name = "text-generation"

    def __init__(self, model_dir: str, max_new_tokens: int, threads: int | None = None) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise ConfigError(f"bench-inference needs transformers and torch ({error}): pip install "
                              "'wattprint[transformers]'") from None
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot load a text-generation model from {model_dir}: {error}") from None
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.max_new_tokens = max_new_tokens
        parameters = list(self.model.parameters())
        self.facts = {"model_class": type(self.model).__name__, "parameters": sum(p.numel() for p in parameters),
                      "dtype": str(parameters[0].dtype).removeprefix("torch.") if parameters else None}

    def serve(self, prompts: Sequence[str]) -> None:
        import torch

        encoded = self.tokenizer(list(prompts), return_tensors="pt", padding=True)
        with torch.inference_mode():
            self.model.generate(**encoded, max_new_tokens=self.max_new_tokens, do_sample=False,
                                pad_token_id=self.tokenizer.pad_token_id)

    def measured(self, run: Any) -> AbstractContextManager[Any]:
        """While the block runs, every batch served is measured as requests of ``run``."""
        from wattprint.integrations.transformers_inference import track_generation

        return track_generation(run, self.model, endpoint=self.name)


def _check_task(item: object, others: Sequence[object]) -> str | None:
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not name:
        return "a benchmark task needs a name"
    if any(getattr(other, "name", None) == name for other in others):
        return f"a task called {name!r} exists already"
    return None


TASKS: Registry[type[Any]] = Registry("inference benchmark task", ENTRY_POINT_GROUP,
                                      {TextGeneration.name: TextGeneration}, _check_task)
"""Benchmark tasks by name: a class taking (model directory, max new tokens, threads) with ``serve(prompts)``,
``measured(run)`` and ``facts``."""


def bench_inference(model: str, prompts: Sequence[str], *, task: str = "text-generation", batch_size: int = 1,
                    requests: int = 100, max_new_tokens: int = 32, warmup_batches: int = 1,
                    threads: int | None = None, **tracker_options: Any) -> BenchResult:
    """Serve ``requests`` of ``prompts`` (cycled) to the local ``model`` directory in batches of ``batch_size``,
    after ``warmup_batches`` unmeasured ones, inside a tracked run (``tracker_options``: project, store, location,
    ...); return the run and its inference figures."""
    from wattprint.run.tracker import Tracker

    _check(model, prompts, batch_size, requests, max_new_tokens, warmup_batches)
    kind = TASKS.find(task)
    if kind is None:
        raise ConfigError(f"--task {task} is not a benchmark task; choose one of: {', '.join(TASKS.names())}")
    tracker_options.setdefault("name", f"bench-inference {os.path.basename(os.path.normpath(model))}")
    tracker = Tracker(**tracker_options)  # settings checked before the model loads
    served = kind(model, max_new_tokens, threads)
    cycle = [prompts[i % len(prompts)] for i in range(requests)]
    for _ in range(warmup_batches):  # not measured: the run has not started
        served.serve(cycle[:batch_size])
    tracker.command = f"wattprint bench-inference --model {model} --task {task}"
    with tracker, served.measured(tracker):
        for start in range(0, requests, batch_size):
            served.serve(cycle[start:start + batch_size])
    result = tracker.result
    assert result is not None
    if not tracker.wait_saved(60):  # the command prints a run id that 'wattprint show' must find
        from wattprint._log import warn_once

        warn_once("bench-inference-save", "wattprint: the benchmark's run was not stored within 60 s; it is stored "
                                          "when the writer catches up")
    if result.inference is None:
        raise ConfigError("the benchmark served no request that could be measured")
    return BenchResult(run=result, inference=result.inference, model=model, task=task, batch_size=batch_size,
                       requests=requests, warmup_batches=warmup_batches, max_new_tokens=max_new_tokens,
                       facts=dict(served.facts))


def _check(model: str, prompts: Sequence[str], batch_size: int, requests: int, max_new_tokens: int,
           warmup_batches: int) -> None:
    if not os.path.isdir(model):
        raise ConfigError(f"--model {model} is not a directory: give a local model directory (save_pretrained)")
    if not prompts:
        raise ConfigError("no prompts: give --prompts FILE with one prompt per line")
    for name, value, low in (("--batch-size", batch_size, 1), ("--requests", requests, 1),
                             ("--max-new-tokens", max_new_tokens, 1), ("--warmup", warmup_batches, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be a whole number of {low} or more, got {value!r}")
