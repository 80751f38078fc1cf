"""A real tiny diffusers pipeline (DDPM with a small UNet2DModel, random weights, nothing downloaded) generating
images inside a run: one request per image of an unconditional batch, the energy per image adding up."""

from __future__ import annotations

from typing import Any

import pytest

import wattprint
from wattprint.core.errors import ConfigError, TrackerStateError

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def pipeline() -> Any:
    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
                                 block_out_channels=(8, 16), down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)
    pipe = diffusers.DDPMPipeline(unet=unet, scheduler=diffusers.DDPMScheduler(num_train_timesteps=10))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_each_image_of_a_batch_is_a_request_and_the_energy_adds_up(pipeline: Any,
                                                                   model_only: dict[str, object]) -> None:
    from wattprint.integrations.diffusers_inference import measure_images

    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        pipe = measure_images(run, pipeline, endpoint="ddpm")
        first = pipe(batch_size=3, num_inference_steps=2, output_type="np", generator=torch.manual_seed(0))
        second = pipe(batch_size=2, num_inference_steps=2, generator=torch.manual_seed(1), return_dict=False)
        assert pipe.unet is pipeline.unet  # the pipeline's own attributes pass through
    after = pipe(batch_size=1, num_inference_steps=1, output_type="np")  # after the run: served, not measured
    assert first.images.shape == (3, 8, 8, 3) and len(second[0]) == 2 and after.images.shape[0] == 1
    assert (pipe.counts.calls, pipe.counts.requests, pipe.counts.images) == (2, 5, 5)
    result = run.result
    assert result is not None and result.inference is not None
    figures = result.inference.whole
    assert figures.requests == 5 and figures.items == 5 and figures.tokens_out is None
    assert figures.j_per_item == pytest.approx(figures.energy_j / 5, rel=1e-12) and figures.j_per_item > 0
    assert figures.sharing == "items" and figures.method == "model"
    batches = sorted({(r.start_s, r.end_s) for r in result.inference.requests})
    assert len(batches) == 2  # the images of one call start and end together
    assert result.inference.endpoints["ddpm"].requests == 5
    total = figures.energy_j + result.inference.idle_energy_j
    assert total == pytest.approx(result.energy_j, rel=1e-9)


def test_prompts_and_images_per_prompt_are_counted_from_the_call() -> None:
    from wattprint.integrations.diffusers_inference import _images, _prompts

    assert _prompts(("a fox",), {}) == 1 and _prompts((), {"prompt": ["a", "b", "c"]}) == 3
    assert _prompts((), {"batch_size": 4}) == 4 and _prompts((), {}) == 1
    assert _images(([1, 2, 3],)) == 3 and _images(object()) is None


def test_measure_images_needs_a_pipeline_and_a_running_tracker(pipeline: Any, model_only: dict[str, object]) -> None:
    from wattprint.integrations.diffusers_inference import measure_images

    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    with pytest.raises(TrackerStateError, match="running tracker"):
        measure_images(run, pipeline)
    with run, pytest.raises(ConfigError, match="diffusers pipeline"):
        measure_images(run, lambda: None)
