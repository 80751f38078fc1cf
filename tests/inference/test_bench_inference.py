"""``wattprint bench-inference`` on a real tiny GPT-2 (random weights, saved to a directory by the test, nothing
downloaded): batches back to back after an unmeasured warm-up, figures over the steady state, the run stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattprint.cli.main import main
from wattprint.store import open_store
from wattprint.store.requests import read_request_intervals

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A one-layer GPT-2 and a word-level tokenizer over w0..w96, saved with save_pretrained."""
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=100, n_positions=64,
                                     bos_token_id=2, eos_token_id=2, pad_token_id=1)
    model = transformers.GPT2LMHeadModel(config).eval()
    vocab = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2, **{f"w{i}": i + 3 for i in range(97)}}
    inner = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    inner.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=inner, unk_token="[UNK]", pad_token="[PAD]",
                                                     eos_token="[EOS]")
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def prompts_file(tmp_path: Path) -> str:
    path = tmp_path / "prompts.txt"
    path.write_text("w1 w2 w3\n\nw4 w5\n{\"prompt\": \"w6 w7 w8 w9\"}\n", encoding="utf-8")
    return str(path)


def test_bench_inference_measures_batches_over_the_steady_state_and_stores_the_run(
        tiny_model: str, tmp_path: Path, no_rapl: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WATTPRINT_POWERCAP_ROOT", no_rapl)
    monkeypatch.setenv("WATTPRINT_GPUS", "false")
    store = str(tmp_path / "runs.sqlite")
    code = main(["bench-inference", "--model", tiny_model, "--prompts", prompts_file(tmp_path), "--batch-size", "4",
                 "--requests", "10", "--max-new-tokens", "5", "--threads", "1", "--location", "FR", "--store", store,
                 "--json"])
    out = capsys.readouterr().out
    assert code == 0
    shown = json.loads(out)
    assert shown["parameters"] > 0 and shown["model_class"] == "GPT2LMHeadModel" and shown["warmup_batches"] == 1
    inference = shown["inference"]
    whole, steady, window = inference["whole"], inference["steady"], inference["window"]
    assert whole["requests"] == 10  # the warm-up batch is not counted
    assert whole["tokens_in"] == 3 + 2 + 4 + 3 + 2 + 4 + 3 + 2 + 4 + 3
    assert whole["tokens_out"] == 50  # greedy, no end-of-sequence token: 5 new tokens each
    assert whole["method"] == "model" and 0 < whole["uncertainty_rel"] < 1
    assert whole["emissions_g_per_1000_requests"] > 0 and whole["j_per_decode_token"] is not None
    # two full batches of 4 then a batch of 2: the steady state holds the full ones (concurrency 4)
    assert window["concurrency"] == 4 and steady["requests"] == 8
    assert whole["energy_j"] + inference["idle_energy_j"] == pytest.approx(shown["energy_j"], rel=1e-9)

    with open_store(store) as opened:
        run = opened.run(shown["run_id"])
        rows = read_request_intervals(opened, run.run_id)
    assert run.status == "finished" and run.intensity_zone == "FR" and "bench-inference" in (run.command or "")
    assert sum(r.requests for r in rows if r.bucket >= 0) == 10
    assert sum(r.requests for r in rows if r.bucket < 0) == 8

    assert main(["bench-inference", "--model", tiny_model, "--prompts", prompts_file(tmp_path), "--requests", "2",
                 "--max-new-tokens", "2", "--warmup", "0", "--store", "off"]) == 0
    text = capsys.readouterr().out
    assert "GPT2LMHeadModel" in text and "J per request" in text and "Whole run" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "{tmp}/missing", "--prompts", "{prompts}"], "--model"),
    (["--model", "{model}", "--prompts", "{tmp}/none.txt"], "--prompts"),
    (["--model", "{model}", "--prompts", "{prompts}", "--batch-size", "0"], "--batch-size"),
    (["--model", "{model}", "--prompts", "{prompts}", "--task", "painting"], "--task"),
])
def test_bench_inference_says_which_option_to_fix(tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], message: str) -> None:
    values = {"tmp": str(tmp_path), "prompts": prompts_file(tmp_path), "model": tiny_model}
    assert main(["bench-inference", *(a.format(**values) for a in argv), "--store", "off"]) == 1
    assert message in capsys.readouterr().err
