"""The Grafana dashboard shipped with the Prometheus exporter queries exactly what the exporter and the agent
emit: every metric and label its queries name is in a real scrape of a tracked run, or of the machine agent
(showing its top process trees, and its top control groups from a cgroup tree written by the test)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.wait import wait_for
from wattprint.core.results import RunResult
from wattprint.exporters import prometheus
from wattprint.exporters.prometheus import GRAFANA_DASHBOARD, METRICS
from wattprint.run.agent import Agent
from wattprint.run.agent_metrics import AGENT_METRICS, serve

TARGET_LABELS = {"instance", "job"}  # Prometheus adds these to every scraped series
METRIC = re.compile(r"\bwattprint_[a-z_]+\b")
MATCHERS = re.compile(r"\{([^{}]*)\}")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (expression, legend format) of the panels and the variables."""
    found = [(target["expr"], target.get("legendFormat", "")) for panel in dashboard["panels"]
             for target in panel.get("targets", ())]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append((variable["query"]["query"], ""))
    return found


def labels_used(expression: str, legend: str) -> set[str]:
    names = {match.split("=")[0].strip().rstrip("!~") for group in MATCHERS.findall(expression)
             for match in group.split(",") if match.strip()}
    names |= {name.strip() for group in GROUPING.findall(expression) for name in group.split(",") if name.strip()}
    return names | set(LEGEND_LABEL.findall(legend))


def agent_scrapes(tmp_path: Path, no_rapl: str) -> list[str]:
    """Scrapes of the machine agent showing its top process trees, then its top control groups."""
    cgroups = tmp_path / "cgroup"
    (cgroups / "job.scope").mkdir(parents=True)
    (cgroups / "cgroup.controllers").write_text("cpu memory\n")
    (cgroups / "job.scope" / "cpu.stat").write_text("usage_usec 0\n")
    (cgroups / "job.scope" / "memory.current").write_text("4096\n")
    texts = []
    for options in ({"tree_root": 1}, {"cgroups": True, "cgroup_root": str(cgroups)}):
        agent = Agent(interval_s=1.0, top=3, powercap_root=no_rapl, gpus=False, location="FR", **options).start()
        server = serve(agent, 0)
        try:
            agent.step()
            texts.append(httpx.get(server.url, timeout=10).text)
        finally:
            server.close()
            agent.close()
    return texts


def test_every_query_names_metrics_and_labels_the_exporter_emits(tracked: Callable[..., RunResult], tmp_path: Path,
                                                                 no_rapl: str) -> None:
    texts: list[str] = []
    with prometheus.start_http_server(0) as server:

        def during(run: Any) -> None:  # a scrape while running has the power gauge too
            wait_for(lambda: "wattprint_power_watts{" in httpx.get(server.url, timeout=10).text, "power", timeout=30)
            texts.append(httpx.get(server.url, timeout=10).text)

        tracked(epochs=1, during=during)
        texts.append(httpx.get(server.url, timeout=10).text)
    emitted: dict[str, set[str]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                emitted.setdefault(sample.name, set()).update(sample.labels)
    assert set(emitted) == set(METRICS)
    for text in agent_scrapes(tmp_path, no_rapl):
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                emitted.setdefault(sample.name, set()).update(sample.labels)
    assert set(emitted) == set(METRICS) | set(AGENT_METRICS)

    dashboard = json.loads(Path(GRAFANA_DASHBOARD).read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["panels"]
    used: set[str] = set()
    for expression, legend in queries(dashboard):
        metrics = set(METRIC.findall(expression))
        assert metrics and metrics <= set(emitted), expression
        used |= metrics
        allowed = TARGET_LABELS.union(*(emitted[name] for name in metrics))
        assert labels_used(expression, legend) <= allowed, expression
    assert {"wattprint_energy_joules_total", "wattprint_power_watts", "wattprint_emissions_grams_total",
            "wattprint_grid_intensity_grams_per_kilowatt_hour", "wattprint_machine_power_watts",
            "wattprint_machine_energy_joules_total", "wattprint_process_power_watts",
            "wattprint_cgroup_power_watts"} <= used
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
