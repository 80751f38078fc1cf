"""Hugging Face ``diffusers`` inference: every call of a pipeline served inside a run is measured as requests, one
per prompt (or per image of an unconditional batch), with the images each produced, so the figures give the
energy per image (``j_per_item``).

``pipe = measure_images(run, pipeline); images = pipe("a red fox", num_images_per_prompt=2).images`` — the
wrapper calls the pipeline unchanged and passes its attributes through. The requests of one call start and end
together (one batch) and share its energy by the images each produced. Imports ``diffusers`` only through the
pipeline it is given.
"""

from __future__ import annotations

import threading
from typing import Any

from wattprint.core.errors import ConfigError, TrackerStateError
from wattprint.run.requests import start_batch, stop_batch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.base import TrackerBase


class ImageCounts:
    """What the measured calls served: ``calls``, ``requests`` and ``images``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.requests = 0
        self.images = 0

    def add(self, requests: int, images: int) -> None:
        with self._lock:
            self.calls += 1
            self.requests += requests
            self.images += images

    def __repr__(self) -> str:
        return f"<ImageCounts calls={self.calls} requests={self.requests} images={self.images}>"


def _prompts(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Requests in one call: the prompts given, else the unconditional ``batch_size`` (one image each)."""
    prompt = args[0] if args else kwargs.get("prompt")
    if isinstance(prompt, str):
        return 1
    if isinstance(prompt, (list, tuple)):
        return max(1, len(prompt))
    if prompt is None and not args:
        size = kwargs.get("batch_size", 1)
        return size if isinstance(size, int) and size > 0 else 1
    return 1


def _images(output: Any) -> int | None:
    """How many images a pipeline returned (an output with ``images``, or ``return_dict=False``'s tuple)."""
    images = getattr(output, "images", None)
    if images is None and isinstance(output, tuple) and output:
        images = output[0]
    if images is None:
        return None
    shape = getattr(images, "shape", None)
    if shape is not None and len(shape) == 4:  # a batch array or tensor: (images, ...)
        return int(shape[0])
    try:
        return len(images)
    except TypeError:
        return None


class MeasuredPipeline:
    """A diffusers pipeline whose calls are requests of ``run``; anything else is the pipeline's own."""

    def __init__(self, run: TrackerBase, pipeline: Any, endpoint: str | None = None) -> None:
        self._run = run
        self._pipeline = pipeline
        self._endpoint = endpoint
        self.counts = ImageCounts()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        run = self._run
        if not run.running:
            return self._pipeline(*args, **kwargs)
        from wattprint.run.requests import Request

        requests = [Request(run, endpoint=self._endpoint) for _ in range(_prompts(args, kwargs))]
        start_batch(requests)
        try:
            output = self._pipeline(*args, **kwargs)
            images = _images(output)
            if images is not None:
                each, rest = divmod(images, len(requests))
                for index, request in enumerate(requests):
                    request.items = each + (1 if index < rest else 0)
                self.counts.add(len(requests), images)
            return output
        finally:
            stop_batch(requests)


def measure_images(run: TrackerBase, pipeline: Any, *, endpoint: str | None = None) -> MeasuredPipeline:
    """``pipeline`` (a diffusers pipeline) with every call inside ``run`` measured as requests, one per prompt,
    each counting the images it produced; ``endpoint`` labels them. ``.counts`` holds the running counts."""
    if not callable(pipeline) or not hasattr(pipeline, "components"):
        raise ConfigError(f"measure_images() needs a diffusers pipeline (DiffusionPipeline), got "
                          f"{type(pipeline).__name__}")
    if not getattr(run, "running", False) or not hasattr(run, "request"):
        raise TrackerStateError("measure_images() needs a running tracker: use it inside "
                                "`with wattprint.track(...) as run:`")
    from wattprint.core.errors import check_name

    return MeasuredPipeline(run, pipeline, check_name("endpoint", endpoint))
