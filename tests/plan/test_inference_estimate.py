"""estimate_inference: energy per query from the ML.ENERGY Leaderboard rows, checked against the embedded table."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict

import pytest

import wattprint
from wattprint.cli.main import main
from wattprint.core.errors import ConfigError
from wattprint.data import InferenceMeasurement, inference_measurements, lookup_intensity
from wattprint.plan.inference import estimate_inference


def gmean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def chat_rows(gpu: str, *, moe: bool = False) -> list[InferenceMeasurement]:
    return [r for r in inference_measurements("lm-arena-chat", gpu) if (r.architecture == "moe") == moe]


def series(rows: list[InferenceMeasurement]) -> dict[tuple[str, int, str], list[InferenceMeasurement]]:
    out: dict[tuple[str, int, str], list[InferenceMeasurement]] = defaultdict(list)
    for r in rows:
        out[(r.model, r.num_gpus, r.precision)].append(r)
    return out


def points_at_measured_batch(rows: list[InferenceMeasurement], batch: int) -> dict[float, float]:
    """Size (B active) -> geometric mean over the series measured at exactly ``batch`` (variants averaged first)."""
    by_size: dict[float, list[float]] = defaultdict(list)
    for members in series(rows).values():
        at = [r.energy_per_token_j for r in members if r.batch == batch]
        if at:
            by_size[members[0].active_params_b].append(gmean([v for v in at if v is not None]))
    return {size: gmean(values) for size, values in sorted(by_size.items())}


def power_law(points: dict[float, float]) -> tuple[float, float]:
    """(coefficient, exponent) of the least-squares line through log(J) against log(size)."""
    xs = [math.log(s) for s in points]
    ys = [math.log(v) for v in points.values()]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - slope * mx), slope


# -- against the table ---------------------------------------------------------------------------------------------


def test_a_measured_batch_limit_gives_the_power_law_through_the_table_rows() -> None:
    rows = chat_rows("H100")
    # Every H100 chat series that reaches a batch limit of 64 was measured at 64 itself, so the figures at 64 are rows.
    for members in series(rows).values():
        batches = sorted(r.batch for r in members)
        assert 64 in batches or batches[-1] < 64 or batches[0] > 64
    points = points_at_measured_batch(rows, 64)
    assert len(points) >= 6 and min(points) == 8 and max(points) == 405
    coefficient, exponent = power_law(points)
    assert 0.5 < exponent < 1.0  # a 10x larger model costs about 3x to 10x more per token

    result = estimate_inference(20e9, tokens_out=500, gpu="H100 SXM", batch=64, location="FR")
    expected_per_token = coefficient * 20**exponent
    assert result.energy_per_unit_j == pytest.approx(expected_per_token, rel=1e-9)
    assert result.gpu_energy_j == pytest.approx(500 * expected_per_token, rel=1e-9)
    assert result.energy_j == result.gpu_energy_j  # GPU only unless host_overhead is given
    assert result.fit is not None and result.fit.exponent == pytest.approx(exponent, rel=1e-9)
    assert result.method == "model" and "ML.ENERGY" in result.source and result.source_year == 2026
    assert "GPU only" in result.scope


def test_the_range_is_the_spread_of_the_nearest_sizes_at_the_neighbouring_batch_limits() -> None:
    rows = chat_rows("H100")
    coefficient, exponent = power_law(points_at_measured_batch(rows, 64))
    result = estimate_inference(20e9, tokens_out=1, gpu="H100", batch=64)
    # 20B lies between the measured 14B and 27B models; their rows at 64 and the measured limits either side count.
    ratios = []
    for members in series(rows).values():
        size = members[0].active_params_b
        batches = sorted({r.batch for r in members})
        if size not in (14, 27) or 64 not in batches:
            continue
        k = batches.index(64)
        near = set(batches[max(0, k - 1): k + 2])
        ratios += [r.energy_j / (coefficient * size**exponent) for r in members if r.batch in near]
    assert len(ratios) >= 6
    central = coefficient * 20**exponent
    assert result.energy_per_unit_low_j == pytest.approx(central * min(1.0, *ratios), rel=1e-9)
    assert result.energy_per_unit_high_j == pytest.approx(central * max(1.0, *ratios), rel=1e-9)
    used = {(c["model"], c["num_gpus"], c["batch"], c["variant"]) for c in result.configurations}
    assert {c["active_params_b"] for c in result.configurations} == {14, 27}
    assert len(used) == len(ratios)


def test_the_range_covers_every_measured_configuration_at_the_requested_size() -> None:
    result = estimate_inference(8e9, tokens_out=1, gpu="H100", batch=128)
    at_size = [r.energy_j for r in chat_rows("H100") if r.active_params_b == 8 and r.batch == 128]
    assert len(at_size) >= 2  # Llama 3.1 8B and Qwen3 8B
    assert all(result.energy_per_unit_low_j <= v <= result.energy_per_unit_high_j for v in at_size)
    assert result.energy_per_unit_low_j <= result.energy_per_unit_j <= result.energy_per_unit_high_j
    spread = (result.energy_high_j - result.energy_low_j) / math.sqrt(12) / result.energy_j
    assert result.energy_uncertainty_rel == pytest.approx(spread)


def test_an_unknown_batch_limit_uses_each_series_median_and_widens_the_range() -> None:
    rows = chat_rows("B200")
    by_size: dict[float, list[float]] = defaultdict(list)
    lows, highs = {}, {}
    for members in series(rows).values():
        per_batch: dict[int, list[float]] = defaultdict(list)
        for r in members:
            per_batch[r.batch].append(r.energy_j)
        size = members[0].active_params_b
        by_size[size].append(statistics.median(gmean(v) for v in per_batch.values()))
        lows[size] = min(lows.get(size, math.inf), *(r.energy_j for r in members))
        highs[size] = max(highs.get(size, 0.0), *(r.energy_j for r in members))
    points = {size: gmean(v) for size, v in sorted(by_size.items())}
    coefficient, exponent = power_law(points)
    result = estimate_inference(70e9, tokens_out=250, gpu="B200")
    assert result.batch is None
    assert result.energy_per_unit_j == pytest.approx(coefficient * 70**exponent, rel=1e-9)
    near = (32, 70, 405)  # the measured size and the sizes either side
    fit = {s: coefficient * s**exponent for s in near}
    assert result.energy_per_unit_low_j == pytest.approx(
        coefficient * 70**exponent * min(1.0, *(lows[s] / fit[s] for s in near)), rel=1e-9)
    assert result.energy_per_unit_high_j == pytest.approx(
        coefficient * 70**exponent * max(1.0, *(highs[s] / fit[s] for s in near)), rel=1e-9)
    known = estimate_inference(70e9, tokens_out=250, gpu="B200", batch=256)
    assert result.energy_high_j / result.energy_low_j > known.energy_high_j / known.energy_low_j


def test_a_named_model_uses_its_own_rows() -> None:
    flux = [r for r in inference_measurements("text-to-image", "H100") if r.model == "black-forest-labs/FLUX.1-dev"]
    result = estimate_inference(model="FLUX.1-dev", images=2, gpu="H100", batch=4)
    per_series: dict[int, list[float]] = defaultdict(list)
    for r in flux:
        if r.batch == 4:
            per_series[r.num_gpus].append(r.energy_j)
    expected = gmean([gmean(v) for v in per_series.values()])
    assert result.model == "black-forest-labs/FLUX.1-dev" and result.unit == "image" and result.fit is None
    assert result.energy_per_unit_j == pytest.approx(expected, rel=1e-9)
    assert result.gpu_energy_j == pytest.approx(2 * expected, rel=1e-9)
    neighbours = [r.energy_j for r in flux if r.batch in (2, 4, 8)]
    assert result.energy_per_unit_low_j == min(neighbours) and result.energy_per_unit_high_j == max(neighbours)
    assert {c["model"] for c in result.configurations} == {"black-forest-labs/FLUX.1-dev"}
    assert all(c["steps"] == 50 and c["width"] == 1024 for c in result.configurations)
    assert any("1024x1024, 50 steps" in note for note in result.notes)


def test_a_mixture_of_experts_is_estimated_from_moe_rows_only() -> None:
    result = estimate_inference(30e9, active_params=3e9, tokens_out=100, gpu="H100", batch=64)
    assert {c["model"] for c in result.configurations} <= {
        r.model for r in inference_measurements("lm-arena-chat", "H100") if r.architecture == "moe"}
    dense = estimate_inference(8e9, tokens_out=100, gpu="H100", batch=64)
    assert not {c["model"] for c in dense.configurations} & {c["model"] for c in result.configurations}


# -- shape of the answer -------------------------------------------------------------------------------------------


def test_energy_grows_with_model_size_and_in_proportion_to_tokens() -> None:
    for gpu, batch in (("H100", None), ("H100", 64), ("B200", None)):
        sizes = [8e9, 12e9, 20e9, 40e9, 70e9, 150e9, 405e9] if batch is None else [8e9, 12e9, 20e9, 40e9, 70e9]
        figures = [estimate_inference(p, tokens_out=500, gpu=gpu, batch=batch).energy_j for p in sizes]
        assert figures == sorted(figures) and len(set(figures)) == len(figures), (gpu, batch, figures)
    one = estimate_inference(8e9, tokens_out=100, location="FR")
    five = estimate_inference(8e9, tokens_out=500, location="FR")
    assert five.energy_j == pytest.approx(5 * one.energy_j)
    assert five.energy_low_j == pytest.approx(5 * one.energy_low_j)
    assert five.emissions_g == pytest.approx(5 * one.emissions_g)


def test_emissions_use_the_locations_intensity_pue_and_host_overhead() -> None:
    result = estimate_inference(8e9, tokens_out=500, location="FR", pue=1.2, host_overhead=0.5)
    france = lookup_intensity("FR")
    assert france is not None
    assert result.energy_j == pytest.approx(1.5 * result.gpu_energy_j)
    assert result.emissions_g == pytest.approx(result.energy_j / 3.6e6 * 1.2 * france.intensity_g_per_kwh)
    assert result.emissions_g_per_1000 == pytest.approx(1000 * result.emissions_g)
    assert result.energy_wh_per_1000 == pytest.approx(result.energy_j * 1000 / 3600)
    assert result.emissions_low_g < result.emissions_g < result.emissions_high_g
    assert "host" in result.scope and result.intensity.zone == "FR"
    gpu_only = estimate_inference(8e9, tokens_out=500, location="FR")
    assert any("host_overhead=" in note for note in gpu_only.notes)


def test_the_top_level_function_and_the_json_dict() -> None:
    result = wattprint.estimate_inference(8e9, tokens_out=500, gpu="H100 SXM", location="FR")
    data = result.to_dict()
    json.dumps(data)
    assert data["method"] == "model" and data["unit"] == "token" and data["gpu"] == "H100"
    assert data["gpu_energy_per_token_j"] == result.energy_per_unit_j
    assert data["per_1000"]["energy_wh"] == pytest.approx(result.energy_wh_per_1000)
    assert data["intensity"]["zone"] == "FR" and data["configurations"] and data["how"]


# -- errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"params": 8e9, "tokens_out": 500, "gpu": "A100"}, "'H100 SXM' (or 'H100'), 'B200'"),
        ({"params": 8e9, "tokens_out": 500, "gpu": "H100 PCIe"}, "H100 SXM"),
        ({"params": 2e9, "tokens_out": 500}, "8B to 405B"),
        ({"params": 2e12, "tokens_out": 500}, "does not extrapolate"),
        ({"params": 405e9, "tokens_out": 500, "batch": 768}, "another batch="),
        ({"params": 8e9, "tokens_out": 500, "batch": 100_000}, "measured: 8 to "),
        ({"params": 8, "tokens_out": 500}, "params=8e9"),
        ({"params": 8e9, "active_params": 9e9, "tokens_out": 500}, "cannot exceed"),
        ({"params": 8e9}, "tokens_out="),
        ({"params": 8e9, "tokens_out": 500, "images": 1}, "images="),
        ({"params": 8e9, "tokens_out": 500, "task": "poetry"}, "task="),
        ({"params": 8e9, "tokens_out": 500, "precision": "int4"}, "bfloat16"),
        ({"tokens_out": 500}, "params="),
        ({"model": "llama", "tokens_out": 500}, "several"),
        ({"model": "no-such-model", "tokens_out": 500}, "Llama-3.1-8B-Instruct"),
        ({"params": 8e9, "tokens_out": -1}, "tokens_out"),
        ({"params": 8e9, "tokens_out": 500, "host_overhead": -0.1}, "host_overhead"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_fix(kwargs: dict, said: str) -> None:
    with pytest.raises(ConfigError) as error:
        estimate_inference(**kwargs)
    assert said in str(error.value)


# -- command line ----------------------------------------------------------------------------------------------------


def test_the_command_prints_the_functions_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["estimate", "--inference", "--params", "8e9", "--tokens", "500", "--gpu", "H100 SXM",
                 "--location", "FR", "--batch", "64", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    expected = estimate_inference(8e9, tokens_out=500, gpu="H100 SXM", location="FR", batch=64)
    assert data["energy_j"] == pytest.approx(expected.energy_j)
    assert data["emissions_g"] == pytest.approx(expected.emissions_g)
    assert (data["method"], data["batch"], data["location"]) == ("model", 64, "FR")

    assert main(["estimate", "--inference", "--model", "FLUX.1-dev", "--images", "1", "--gpu", "B200"]) == 0
    text = capsys.readouterr().out
    assert "FLUX.1-dev" in text and "GPU energy" in text and "ML.ENERGY" in text


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--inference", "--tokens", "5"), "--params"),
        (("--inference", "--params", "8e9"), "--tokens"),
        (("--params", "8e9", "--tokens", "5"), "--inference"),
        (("--inference", "--params", "8e9", "--tokens", "many"), "--tokens"),
    ],
)
def test_a_missing_option_is_a_usage_error_naming_it(
    args: tuple[str, ...], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["estimate", *args])
    assert exit_.value.code == 2
    assert option in capsys.readouterr().err.split(": error: ", 1)[1]


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (("--inference", "--params", "8e9", "--tokens", "5", "--hours", "2"), ("--hours",)),
        (("--inference", "--params", "8e9", "--tokens", "5", "--images", "1"), ("--tokens", "--images")),
        (("--inference", "--params", "8e9", "--model", "FLUX", "--images", "1"), ("--params", "--model")),
    ],
)
def test_options_that_do_not_go_together_are_a_failure_naming_them(
    args: tuple[str, ...], options: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["estimate", *args]) == 1
    err = capsys.readouterr().err
    assert "usage:" not in err and all(option in err for option in options), err


def test_the_command_words_a_bad_value_for_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--inference", "--params", "8", "--tokens", "5"]) == 1
    assert "give --params 8e9" in capsys.readouterr().err
    assert main(["estimate", "--inference", "--params", "8e9", "--tokens", "5", "--gpu", "T4"]) == 1
    assert "--gpu" in capsys.readouterr().err


def test_the_documented_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "inference.md").read_text(encoding="utf-8")
    section = text[text.index("## Services you do not run"):]
    blocks = re.findall(r"```(python|bash)\n(.*?)```", section, flags=re.DOTALL)
    assert [kind for kind, _ in blocks] == ["python", "bash"]
    exec(compile(blocks[0][1], "docs/inference.md", "exec"), {})  # noqa: S102 - the documentation's own example
    assert "J of GPU energy per answer" in capsys.readouterr().out
    for line in blocks[1][1].splitlines():
        args = shlex.split(line.split("#", 1)[0])
        assert args[:3] == ["wattprint", "estimate", "--inference"], line
        assert main(args[1:]) == 0, line
    capsys.readouterr()
