"""The workflow pages: the list, and one node per task in each graph."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer, create_workflow, tasks_by_key, wait_workflow
from tests.ui.browsing import chart_option, open_page

STATUS_HEX = {"completed": "#388e3c", "failed": "#d32f2f", "cancelled": "#9e9e9e"}


def _release(name: str) -> dict[str, object]:
    return {
        "name": name,
        "description": "a diamond with an on-failure branch",
        "tasks": [
            {"key": "fetch", "command": "true"},
            {"key": "build-a", "command": "true", "depends_on": ["fetch"]},
            {"key": "build-b", "command": "true", "depends_on": ["fetch"]},
            {"key": "build-c", "command": "exit 4", "depends_on": ["fetch"]},
            {"key": "test", "command": "true", "depends_on": ["build-a", "build-b"]},
            {"key": "publish", "command": "true", "depends_on": ["test"]},
            {
                "key": "report",
                "command": "true",
                "depends_on": [{"key": "build-c", "condition": "failure"}],
            },
        ],
    }


def test_a_workflow_graph_has_one_node_per_task_and_one_edge_per_dependency(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        created = create_workflow(client, _release("graph-check"))
        done = wait_workflow(client, created["id"], "completed", "failed")
    open_page(page, ui_server, f"/ui/workflows/{created['id']}")
    expect(page.get_by_test_id("workflow-name")).to_have_text("graph-check")

    series = chart_option(page, "workflow-graph")["series"]
    assert [s["type"] for s in series] == ["graph"]
    nodes = series[0]["data"]
    tasks = tasks_by_key(done)
    assert sorted(n["name"] for n in nodes) == sorted(tasks)
    assert {n["name"]: n["value"] for n in nodes} == {
        k: t["id"] for k, t in tasks.items()
    }
    edges = {(link["source"], link["target"]) for link in series[0]["links"]}
    assert edges == {(e["source_key"], e["target_key"]) for e in done["edges"]}
    # Coloured by status.
    categories = series[0]["categories"]
    for node in nodes:
        status = tasks[node["name"]]["status"]
        category = categories[node["category"]]
        assert category["name"] == status, (node, status)
        assert category["itemStyle"]["color"] == STATUS_HEX[status]
    # Dependencies point right: a task sits right of what it depends on.
    x_of = {n["name"]: n["x"] for n in nodes}
    assert all(x_of[source] < x_of[target] for source, target in edges)


def test_the_graph_recolours_as_tasks_run(page: Page, ui_server: RestServer) -> None:
    with ui_server.client() as client:
        created = create_workflow(
            client,
            {
                "name": "recolour",
                "tasks": [
                    {
                        "key": "gate",
                        "command": "",
                        "start_after": "2099-01-01T00:00:00Z",
                    },
                    {"key": "after", "command": "true", "depends_on": ["gate"]},
                ],
            },
        )
    open_page(page, ui_server, f"/ui/workflows/{created['id']}")
    expect(page.get_by_test_id("workflow-status")).to_have_text("pending")

    with ui_server.client() as client:
        gate = tasks_by_key(created)["gate"]
        client.post(f"/tasks/{gate['id']}/cancel", json={"reason": "no gate"})

    expect(page.get_by_test_id("workflow-status")).to_have_text("cancelled")
    series = chart_option(page, "workflow-graph")["series"][0]
    categories = [c["name"] for c in series["categories"]]
    assert {n["name"]: categories[n["category"]] for n in series["data"]} == {
        "gate": "cancelled",
        "after": "cancelled",
    }


def test_the_list_shows_each_workflow_with_its_status(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        created = create_workflow(client, _release("listed"))
        wait_workflow(client, created["id"], "completed", "failed")
    open_page(page, ui_server, "/ui/workflows")

    expect(page.get_by_test_id("workflow-status-listed")).to_have_text("failed")
    page.get_by_test_id("workflow-link-listed").click()
    page.wait_for_url(f"**/ui/workflows/{created['id']}")
