"""A real MLflow tracking store for tests (SQLite: current MLflow refuses file:// stores), and a metric's history."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def tracking_store(directory: Path) -> str:
    """The URI of a new SQLite tracking store in ``directory``, its tables made (that takes MLflow seconds, so make
    one per module). MLflow keeps artifacts (the reports) beside the working directory of the store's first use,
    hence the change of directory."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{directory / 'mlflow.sqlite'}"
    here = os.getcwd()
    os.chdir(directory)
    try:
        MlflowClient(uri).search_experiments()
    finally:
        os.chdir(here)
    return uri


def history(client: Any, run_id: str, key: str) -> list[tuple[int, float]]:
    """A metric's (step, value) pairs in step order."""
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]
