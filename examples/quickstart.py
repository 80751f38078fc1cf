"""Measure a small CPU training loop with wattprint and print what it cost.

    python examples/quickstart.py
"""

from __future__ import annotations

import random

import wattprint


def train_one_epoch(steps: int = 1_000_000) -> float:
    """A stand-in for a training epoch: a pure-Python linear regression by SGD."""
    weight, bias, rate = 0.0, 0.0, 1e-3
    for _ in range(steps):
        x = random.random()
        error = weight * x + bias - (3.0 * x + 1.0)
        weight -= rate * error * x
        bias -= rate * error
    return weight


def main() -> None:
    with wattprint.track(project="quickstart", name="sgd") as run:
        for epoch in range(3):
            with run.task(f"epoch-{epoch}") as window:
                train_one_epoch()
            print(f"epoch {epoch}: {window.result.energy_j:8.2f} J in {window.result.duration_s:.2f} s")
    result = run.result
    print(f"\nrun {result.run_id[:12]}: {result.energy_kwh * 1000:.4f} Wh "
          f"(+/- {result.uncertainty_rel:.0%}) over {result.duration_s:.1f} s")
    for name, component in result.components.items():
        print(f"  {name:4s} {component.energy_j:8.2f} J  {component.avg_power_w:6.1f} W  "
              f"{component.method:7s} +/- {component.uncertainty_rel:.0%}")
    for note in result.notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
