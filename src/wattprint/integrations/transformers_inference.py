"""Hugging Face transformers inference: every ``model.generate(...)`` (and so every ``pipeline("text-generation")``
call) served inside a run is measured as requests, one per prompt, with their tokens counted.

``with track_generation(run, pipe_or_model): pipe("Hello")`` — prompt tokens from the attention mask, output
tokens from the returned sequences (up to the first end-of-sequence token), and the first generated token marks
prefill from decode where the generation can stream (greedy or sampling, not beam search). The prompts of one
batch are requests served together: they share its energy by the tokens each processed. Imports ``transformers``
only through the model it is given.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wattprint.core.errors import ConfigError
from wattprint.run.requests import first_token_batch, start_batch, stop_batch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.base import TrackerBase
    from wattprint.run.requests import Request


class GenerationCounts:
    """What the tracked generate calls served: ``calls``, ``requests``, ``tokens_in``, ``tokens_out``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.requests = 0
        self.tokens_in = 0
        self.tokens_out = 0

    def add(self, tokens_in: list[int], tokens_out: list[int]) -> None:
        with self._lock:
            self.calls += 1
            self.requests += len(tokens_in)
            self.tokens_in += sum(tokens_in)
            self.tokens_out += sum(tokens_out)

    def __repr__(self) -> str:
        return (f"<GenerationCounts calls={self.calls} requests={self.requests} tokens_in={self.tokens_in} "
                f"tokens_out={self.tokens_out}>")


class _FirstToken:
    """A ``generate`` streamer (duck-typed: put and end) that marks the first generated token of every request in
    the batch, then passes each value on to the caller's own streamer, if any."""

    def __init__(self, requests: list[Request], forward: Any) -> None:
        self.requests = requests
        self.forward = forward
        self.puts = 0

    def put(self, value: Any) -> None:
        self.puts += 1
        if self.puts == 2:  # the first put is the prompt, the second the first generated token
            first_token_batch(self.requests)
        if self.forward is not None:
            self.forward.put(value)

    def end(self) -> None:
        if self.forward is not None:
            self.forward.end()


def _prompt(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args:
        return args[0]
    return kwargs.get("input_ids", kwargs.get("inputs"))


def _eos_ids(model: Any, kwargs: dict[str, Any]) -> set[int]:
    config = kwargs.get("generation_config") or getattr(model, "generation_config", None)
    eos = kwargs.get("eos_token_id", getattr(config, "eos_token_id", None))
    if eos is None:
        return set()
    if isinstance(eos, int):
        return {eos}
    try:
        return {int(e) for e in eos}
    except TypeError:
        return set()


def _streamable(model: Any, kwargs: dict[str, Any]) -> bool:
    """Whether a streamer can be added: greedy or sampling (beam search refuses streamers)."""
    config = kwargs.get("generation_config") or getattr(model, "generation_config", None)
    beams = kwargs.get("num_beams", getattr(config, "num_beams", 1)) or 1
    return int(beams) == 1 and not kwargs.get("assistant_model") and not kwargs.get("prompt_lookup_num_tokens")


def _count_out(model: Any, output: Any, prompt_length: int, prompts: int, eos: set[int]) -> list[int]:
    """Generated tokens per prompt: each row's new tokens up to and including the first end-of-sequence token."""
    sequences = getattr(output, "sequences", output)
    encoder_decoder = bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))
    counts = [0] * prompts
    rows = sequences.tolist()
    per_prompt = max(1, len(rows) // prompts)
    for index, row in enumerate(rows):
        new = row[1:] if encoder_decoder else row[prompt_length:]
        count = len(new)
        for position, token in enumerate(new):
            if token in eos:
                count = position + 1
                break
        counts[min(index // per_prompt, prompts - 1)] += count
    return counts


def _tracked(run: TrackerBase, model: Any, generate: Any, counts: GenerationCounts, endpoint: str | None) -> Any:
    from wattprint.run.requests import Request

    @functools.wraps(generate)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not run.running:
            return generate(*args, **kwargs)
        prompt = _prompt(args, kwargs)
        if prompt is None or getattr(prompt, "ndim", 0) != 2:  # embeddings or nothing: one request, tokens unknown
            with Request(run, endpoint=endpoint):
                return generate(*args, **kwargs)
        mask = kwargs.get("attention_mask")
        prompt_length = int(prompt.shape[1])
        tokens_in = [int(n) for n in mask.sum(dim=1).tolist()] if mask is not None else [prompt_length] * len(prompt)
        requests = [Request(run, tokens_in=n, endpoint=endpoint) for n in tokens_in]
        if _streamable(model, kwargs):
            kwargs["streamer"] = _FirstToken(requests, kwargs.get("streamer"))
        start_batch(requests)
        try:
            output = generate(*args, **kwargs)
            tokens_out = _count_out(model, output, prompt_length, len(requests), _eos_ids(model, kwargs))
            for request, n in zip(requests, tokens_out, strict=True):
                request.tokens_out = n
            counts.add(tokens_in, tokens_out)
            return output
        finally:
            stop_batch(requests)

    return wrapper


@contextmanager
def track_generation(run: TrackerBase, target: Any, *, endpoint: str | None = None) -> Iterator[GenerationCounts]:
    """Measure every ``generate`` call of ``target`` (a model, or a pipeline with a ``model``) inside ``run`` as
    requests, one per prompt, with their tokens; ``endpoint`` labels them. Yields the running counts."""
    model = getattr(target, "model", target)
    generate = getattr(model, "generate", None)
    if not callable(generate):
        raise ConfigError(f"track_generation() needs a transformers model or pipeline with generate(), got "
                          f"{type(target).__name__}; pass the model, or pipeline(\"text-generation\", ...)")
    if not run.running:
        from wattprint.core.errors import TrackerStateError

        raise TrackerStateError("track_generation() needs a running tracker: use it inside "
                                "`with wattprint.track(...) as run:`")
    counts = GenerationCounts()
    had_own = "generate" in vars(model)
    previous = vars(model).get("generate")
    model.generate = _tracked(run, model, generate, counts, endpoint)
    try:
        yield counts
    finally:
        if had_own:
            model.generate = previous
        else:
            del model.generate
