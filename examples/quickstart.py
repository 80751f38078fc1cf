"""Measure a small CPU training loop with wattprint and print what it cost: energy and CO2e with their
uncertainties, where the run was priced and how that was decided, and where the run was stored.

    python examples/quickstart.py
    WATTPRINT_LOCATION=FR python examples/quickstart.py     # price it on the French grid
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
    from wattprint.core.formatting import format_emissions, format_energy
    from wattprint.report.content import how_located_words

    with wattprint.track(project="quickstart", name="sgd") as run:
        for epoch in range(3):
            with run.task(f"epoch-{epoch}") as window:
                train_one_epoch()
            print(f"epoch {epoch}: {format_energy(window.result.energy_j)} in {window.result.duration_s:.2f} s")
    result = run.result
    print()
    print(result)  # the summary `wattprint show` prints: totals, emissions, intensity, components, notes
    print()
    print(f"footprint: {format_energy(result.energy_j)} ± {result.uncertainty_rel:.0%} of IT energy", end="")
    if result.emissions_g is not None:
        print(f", {format_emissions(result.emissions_g)} ± {result.emissions_uncertainty_rel:.0%}")
        intensity = result.intensity
        print(f"location: {intensity.zone_name} ({intensity.zone}); {how_located_words(intensity.how_located)}")
        if intensity.how_located in ("location unknown", "ip geolocation"):
            print("  set it for your grid's figure: WATTPRINT_LOCATION=FR python examples/quickstart.py, "
                  "or wattprint.track(location=\"FR\")")
    else:
        print()
    if run.store_url and run.wait_saved(timeout=30):
        where = run.store_url.removeprefix("sqlite:///")
        print(f"stored in {where}; see it again with: wattprint show last")


if __name__ == "__main__":
    main()
