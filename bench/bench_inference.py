"""What measuring requests costs: one request window (goal: under 5 µs), and a tiny model's throughput with and
without wattprint (goal: no difference beyond noise). Prints figures; asserts nothing.

    python bench/bench_inference.py [--windows 20000] [--rounds 7] [--batches 20] [--batch-size 8] [--device cpu]

The window: ``with run.request(tokens_in=16) as req: req.tokens_out = 32`` in a running tracker (store off, so no
writer thread competes), timed in chunks of 1,000. Its edges record a time each; the meter is read at an edge at
most once per ``interval_s`` (0.1 s here, so that readings fall inside the timed chunks) and the meter's thread
settles the shares meanwhile. Beside it: the edges alone (no reading due), the settling per request (done once
per ``interval_s`` in the meter's thread), exact edges (a meter reading at each edge, ``request_edges(run,
"meter")``), and a ``task()`` window. The throughput: a GPT-2 of one layer (random weights, built from a small config,
nothing downloaded) generating 32 tokens for batches of prompts, in rounds that alternate plain ``generate`` and
the same calls measured with ``track_generation`` (the tracker started and stopped outside the timed part), so
that drift on a shared machine falls on both alike. With ``--device cuda`` the model runs on the GPU, the tracker
reads NVML, and each batch ends with ``torch.cuda.synchronize()`` (as a served request's end would).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def _windows(run: object, chunk: int) -> float:
    """Seconds per window over ``chunk`` windows."""
    start = time.perf_counter()
    for _ in range(chunk):
        with run.request(tokens_in=16) as req:  # type: ignore[attr-defined]
            req.tokens_out = 32
    return (time.perf_counter() - start) / chunk


def _line(label: str, values: list[float], unit: float = 1e6, suffix: str = "µs") -> str:
    low, mid, high = quartiles(values)
    return f"{label}: {mid * unit:.2f} {suffix} ({low * unit:.2f}–{high * unit:.2f})"


def window_cost(windows: int, gpus: bool) -> None:
    import wattprint
    from wattprint.run.requests import _ledger, request_edges

    chunk = 1000
    chunks = max(4, windows // chunk)
    # Interpolated edges (the default) with readings every 0.1 s, so that the timed chunks include the edges
    # that read the meter and the settling the meter's thread does meanwhile (it takes the interpreter's lock).
    with wattprint.Tracker(store="off", gpus=gpus, interval_s=0.1) as run:
        methods = sorted({d.method for d in run.snapshot().devices})
        _windows(run, chunk)  # warm
        per_request: list[float] = []
        began = time.perf_counter()
        while len(per_request) < chunks or time.perf_counter() - began < 2.0:  # 20 or more readings
            per_request.append(_windows(run, chunk))
        mean = (time.perf_counter() - began) / (len(per_request) * chunk)
        per_task: list[float] = []
        for _ in range(chunks):
            start = time.perf_counter()
            for _ in range(chunk // 10):
                with run.task("t"):
                    pass
            per_task.append((time.perf_counter() - start) / (chunk // 10))
    # The same edges alone (no reading due during the chunk), then settling what they recorded, per request.
    edges: list[float] = []
    settling: list[float] = []
    with wattprint.Tracker(store="off", gpus=gpus, interval_s=3600) as run:
        ledger = _ledger(run)
        _windows(run, chunk)
        for _ in range(chunks):
            edges.append(_windows(run, chunk))
            start = time.perf_counter()
            ledger.refresh(run, force=True)  # a reading, and settling the chunk's requests (as the meter's job)
            settling.append((time.perf_counter() - start) / chunk)
    # Exact edges: a meter reading at every edge, settled as above.
    with wattprint.Tracker(store="off", gpus=gpus, interval_s=0.1) as run:
        request_edges(run, "meter")
        _windows(run, chunk // 10)
        exact = [_windows(run, chunk // 10) for _ in range(chunks)]
    print(f"sensors {'+'.join(methods)}, {chunks} chunks of {chunk} windows "
          "(`with run.request(tokens_in=16) as req: req.tokens_out = 32`); median (quartiles):")
    print("  " + _line(f"one request window, interpolated edges (default; readings every 0.1 s, settling in the "
                       f"meter's thread; {len(per_request)} chunks)", per_request) + f"; mean {mean * 1e6:.2f} µs")
    print("  " + _line("  of which the edges alone (no reading due)", edges))
    print("  " + _line("  settling, per request (in the meter's thread, once per interval_s)", settling))
    print("  " + _line("one request window, exact edges (request_edges(run, 'meter'): a reading at each edge)",
                       exact))
    print("  " + _line("one task() window, for comparison", per_task))


def throughput(rounds: int, batches: int, batch_size: int, device: str) -> None:
    import torch
    import transformers

    import wattprint
    from wattprint.integrations.transformers_inference import track_generation

    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=100, n_positions=64,
                                     bos_token_id=2, eos_token_id=2, pad_token_id=1)
    model = transformers.GPT2LMHeadModel(config).eval().to(device)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 1
    prompts = torch.randint(3, 100, (batch_size, 16), device=device)
    mask = torch.ones_like(prompts)
    cuda = device.startswith("cuda")

    def serve() -> None:
        with torch.inference_mode():
            for _ in range(batches):
                model.generate(prompts, attention_mask=mask, max_new_tokens=32, do_sample=False)
                if cuda:
                    torch.cuda.synchronize()

    serve()  # warm
    plain: list[float] = []
    measured: list[float] = []
    energy: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        serve()
        plain.append(batches * batch_size / (time.perf_counter() - start))
        run = wattprint.Tracker(store="off", gpus=cuda).start()
        with track_generation(run, model):
            start = time.perf_counter()
            serve()
            measured.append(batches * batch_size / (time.perf_counter() - start))
        result = run.stop()
        if result is not None and result.inference is not None and result.inference.whole.j_per_output_token:
            energy.append(result.inference.whole.j_per_output_token)
            method = f"{result.inference.whole.method} ±{result.inference.whole.uncertainty_rel:.0%}"
    low, mid, high = quartiles(plain)
    print(f"tiny GPT-2 on {device}, batches of {batch_size}, 16 prompt + 32 new tokens, {rounds} rounds of "
          f"{batches} batches:")
    print(f"  without wattprint: {mid:.1f} requests/s ({low:.1f}–{high:.1f})")
    low2, mid2, high2 = quartiles(measured)
    print(f"  with wattprint (track_generation): {mid2:.1f} requests/s ({low2:.1f}–{high2:.1f})")
    ratios = [m / p - 1 for m, p in zip(measured, plain, strict=True)]
    low3, mid3, high3 = quartiles(ratios)
    print(f"  difference, round by round: {mid3:+.2%} ({low3:+.2%} to {high3:+.2%}); the plain rounds' own spread "
          f"(quartiles over median): {(low - mid) / mid:+.2%} to {(high - mid) / mid:+.2%}")
    if energy:
        print(f"  energy per output token: {statistics.median(energy):.3g} J ({method})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    window_cost(args.windows, gpus=args.device.startswith("cuda"))
    if not args.skip_model:
        throughput(args.rounds, args.batches, args.batch_size, args.device)


if __name__ == "__main__":
    main()
