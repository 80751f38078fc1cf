"""A real tiny GPT-2 (random weights, built from a small config, nothing downloaded) generating through
``pipeline("text-generation")`` and ``model.generate`` inside a run, its tokens counted automatically."""

from __future__ import annotations

from typing import Any

import pytest

import wattprint
from wattprint.core.errors import ConfigError, TrackerStateError
from wattprint.inference import summarize

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

PAD, EOS = 1, 2


def tiny_gpt2() -> Any:
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=100, n_positions=64,
                                     bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.generation_config.eos_token_id = None  # generate exactly max_new_tokens unless a test sets one
    model.generation_config.pad_token_id = PAD
    return model


def word_tokenizer() -> Any:
    """A word-level tokenizer over ``w0`` .. ``w96`` (ids 3 .. 99), built in memory."""
    vocab = {"[UNK]": 0, "[PAD]": PAD, "[EOS]": EOS, **{f"w{i}": i + 3 for i in range(97)}}
    inner = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    inner.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=inner, unk_token="[UNK]", pad_token="[PAD]",
                                                eos_token="[EOS]")


def test_generate_counts_each_prompt_of_a_batch_as_a_request(model_only: dict[str, object]) -> None:
    from wattprint.integrations.transformers_inference import track_generation

    model = tiny_gpt2()
    prompts = torch.tensor([[PAD, PAD, 7, 8], [5, 6, 7, 8]])  # left-padded: 2 and 4 prompt tokens
    mask = (prompts != PAD).long()
    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        with track_generation(run, model, endpoint="generate") as counts:
            output = model.generate(prompts, attention_mask=mask, max_new_tokens=6, do_sample=False)
        assert "generate" not in vars(model)  # the wrapper is gone with the block
    assert output.shape == (2, 10)
    assert (counts.calls, counts.requests, counts.tokens_in, counts.tokens_out) == (1, 2, 6, 12)
    result = summarize(run)
    assert result is not None and run.result is not None
    first, second = result.requests
    assert (first.tokens_in, first.tokens_out, second.tokens_in, second.tokens_out) == (2, 6, 4, 6)
    assert first.start_s == second.start_s and first.end_s == second.end_s  # one batch: one pair of edges
    assert first.sharing == second.sharing == "tokens"
    assert first.time_to_first_token_s is not None and 0 < first.time_to_first_token_s < first.duration_s
    assert result.whole.j_per_prefill_token is not None and result.whole.j_per_decode_token is not None
    assert result.whole.j_per_output_token == pytest.approx(result.whole.energy_j / 12)
    assert result.whole.energy_j + result.idle_energy_j == pytest.approx(run.result.energy_j, rel=1e-9)
    assert result.whole.method == "model" and first.endpoint == "generate"


def test_output_tokens_end_at_the_first_end_of_sequence_token(model_only: dict[str, object]) -> None:
    from wattprint.integrations.transformers_inference import track_generation

    model = tiny_gpt2()
    prompt = torch.tensor([[10, 11, 12]])
    greedy = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=8, do_sample=False)
    new = greedy[0, 3:].tolist()
    # the latest token generated for the first time, short of the last step: its first occurrence ends the output
    stop = max(i for i, token in enumerate(new[:-1]) if token not in new[:i])
    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        with track_generation(run, model) as counts:
            again = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=8,
                                   do_sample=False, eos_token_id=new[stop], num_beams=1)
    assert again[0, 3:3 + stop + 1].tolist() == new[:stop + 1]  # the same greedy tokens, up to the stop token
    assert counts.tokens_out == stop + 1 < 8


def test_a_text_generation_pipeline_is_measured_per_prompt(model_only: dict[str, object]) -> None:
    from wattprint.integrations.transformers_inference import track_generation

    pipe = transformers.pipeline("text-generation", model=tiny_gpt2(), tokenizer=word_tokenizer(), device="cpu")
    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        with track_generation(run, pipe) as counts:
            outputs = pipe(["w1 w2 w3", "w4 w5"], max_new_tokens=5, do_sample=False)
    assert len(outputs) == 2 and outputs[0][0]["generated_text"].startswith("w1 w2 w3")
    assert (counts.calls, counts.requests, counts.tokens_in, counts.tokens_out) == (2, 2, 5, 10)
    result = summarize(run)
    assert result is not None and run.result is not None
    assert [(r.tokens_in, r.tokens_out) for r in result.requests] == [(3, 5), (2, 5)]
    assert result.whole.output_tokens_per_j is not None and result.whole.output_tokens_per_j > 0
    assert result.whole.energy_j + result.idle_energy_j == pytest.approx(run.result.energy_j, rel=1e-9)
    assert "per output token" in str(result)


def test_tracking_generation_needs_a_model_and_a_running_tracker(model_only: dict[str, object]) -> None:
    from wattprint.integrations.transformers_inference import track_generation

    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    with pytest.raises(TrackerStateError, match="running tracker"):
        with track_generation(run, tiny_gpt2()):
            pass
    with run:
        with pytest.raises(ConfigError, match="generate"):
            with track_generation(run, object()):
                pass


def test_importing_the_integration_imports_no_framework() -> None:
    import subprocess
    import sys

    code = ("import sys, wattprint.integrations.transformers_inference, wattprint.inference; "
            "print([m for m in ('torch', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
