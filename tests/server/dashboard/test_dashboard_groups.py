"""The dashboard's run group page in headless Chromium: totals with method and ±, the per-node chart holding each
rank's energy, parts linked to their run pages; a part's run page and the project's runs table link the group.
The group is written by real trackers on two powercap "nodes" moved by 25 J and 40 J."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.dashboard import Browser, chart_data, shot
from tests.fakes.run_groups import write_group
from tests.fakes.server import TeamServer, sqlite_url, start_server


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TeamServer, list[str]]]:
    workdir = tmp_path_factory.mktemp("dashboard-groups")
    store = workdir / "team.sqlite"
    run_ids = write_group(workdir, str(store))
    with start_server(sqlite_url(store), workdir) as server:
        yield server, run_ids


def _open(browser: Browser, server: TeamServer, path: str) -> Any:
    page = browser.page()
    page.goto(server.url + path)
    return page


def test_group_page(browser: Browser, grouped: tuple[TeamServer, list[str]]) -> None:
    server, run_ids = grouped
    page = _open(browser, server, "/groups/job-7001")
    data = chart_data(page, "nodes")
    assert data["labels"][0].startswith("node 0 (") and data["labels"][1].startswith("node 1 (")
    assert [d["label"] for d in data["datasets"]] == ["rank 0", "rank 1", "rank 2", "rank 3"]
    per_node = [sum(d["data"][i] for d in data["datasets"]) for i in range(2)]  # in J: the unit that reads best
    group = httpx.get(f"{server.url}/api/v1/groups/job-7001", timeout=30).json()
    assert per_node == [pytest.approx(n["energy_j"]) for n in group["nodes"]]
    assert per_node[0] >= 25.0 * 0.99 and per_node[1] >= 40.0 * 0.99  # each node's CPU (once) and its RAM
    page.wait_for_selector("#figure-energy .pm")
    energy = page.inner_text("#figure-energy")
    assert "±" in energy and "model" in energy  # the weakest method used: RAM is modelled
    page.wait_for_selector("a[data-part]")
    assert page.eval_on_selector_all("a[data-part]", "links => links.map(a => a.getAttribute('href'))") == [
        f"/runs/{run_id}" for run_id in run_ids]
    assert "4 parts on 2 nodes" in page.inner_text("#meta")
    assert page.locator("#downloads button").count() == 3
    shot(page, "group")
    browser.check_no_errors()


def test_a_part_and_the_project_link_the_group(browser: Browser, grouped: tuple[TeamServer, list[str]]) -> None:
    server, run_ids = grouped
    page = _open(browser, server, f"/runs/{run_ids[1]}")
    link = page.wait_for_selector("#group-link")
    assert link.get_attribute("href") == "/groups/job-7001"
    assert "rank 1 of 4" in page.inner_text("#meta")
    shot(page, "group-part")
    page = _open(browser, server, "/projects/cluster")
    page.wait_for_selector("#runs-table a.group-link")
    assert page.locator("#runs-table a.group-link").count() == 4
    page.fill("#search", "job-7001")
    assert page.locator("#runs-table tbody tr").count() == 4
    shot(page, "project-with-group")
    page.locator("#runs-table a.group-link").first.click()
    page.wait_for_url("**/groups/job-7001")
    chart_data(page, "nodes")
    shot(page, "group-from-project")
    browser.check_no_errors()
