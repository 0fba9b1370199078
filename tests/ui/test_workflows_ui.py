"""The workflow pages: the list, and one node per task in each graph."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import cycle

import httpx
from playwright.sync_api import Page, expect

from tests.rest.live import (
    RestServer,
    create_workflow,
    tasks_by_key,
    wait_until,
    wait_workflow,
)
from tests.ui.browsing import chart_option, open_page
from tq_grpc._gen import tasks_pb2, workflows_pb2
from tq_ui import graph, text

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
    after = tasks_by_key(created)["after"]
    row = page.locator("tr", has=page.get_by_test_id(f"task-link-{after['id']}"))
    gate = tasks_by_key(created)["gate"]
    expect(row).to_contain_text(f"waiting for dependency {gate['id']} (gate)")

    with ui_server.client() as client:
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


def test_a_large_workflow_graph_draws_every_task_and_follows_them(
    page: Page, ui_server: RestServer
) -> None:
    conditions = ["success", "failure", "completion"]
    body = {
        "name": "large",
        "tasks": [
            {"key": f"t{i}", "command": ""}
            | (
                {"depends_on": [{"key": f"t{i - 100}", "condition": conditions[i % 3]}]}
                if i >= 100
                else {}
            )
            for i in range(300)
        ],
    }
    with ui_server.client() as client:
        created = create_workflow(client, body)
        ids = [item["task"]["id"] for item in created["tasks"]]
        _cancel(client, ids[0])
    open_page(page, ui_server, f"/ui/workflows/{created['id']}")
    expect(page.get_by_test_id("workflow-name")).to_have_text("large")

    with ui_server.client() as client:

        def drawn_as_stored() -> bool:
            return _nodes_by_status(page) == _statuses(client, created["id"])

        wait_until(drawn_as_stored, what="every task drawn in its status")
        _cancel(client, ids[1])
        wait_until(drawn_as_stored, what="the graph to recolour")
    nodes = _nodes_by_status(page)
    # t100 waited on t0 failing, t101 on t1 ending.
    assert {0, 1, 100} <= nodes["cancelled"] and 101 in nodes["pending"]
    assert _edges(page) == Counter(e["condition"] for e in created["edges"])

    # The task table shows 25 tasks at a time and pages through all of them.
    shown = page.get_by_test_id("workflow-tasks-shown")
    expect(shown).to_have_text("1 to 25 of 300")
    expect(page.get_by_test_id(f"task-link-{ids[24]}")).to_be_visible()
    expect(page.get_by_test_id(f"task-link-{ids[25]}")).to_have_count(0)
    page.get_by_test_id("workflow-tasks-next").click()
    expect(shown).to_have_text("26 to 50 of 300")
    expect(page.get_by_test_id(f"task-link-{ids[25]}")).to_be_visible()
    expect(page.get_by_test_id(f"task-link-{ids[0]}")).to_have_count(0)
    page.get_by_test_id("workflow-tasks-previous").click()
    expect(shown).to_have_text("1 to 25 of 300")

    # A click on a node opens its task (t5: layer 0, row 5).
    page.get_by_test_id("workflow-graph").scroll_into_view_if_needed()
    box = page.get_by_test_id("workflow-graph").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "(id) => getElement(id).chart.convertToPixel({xAxisIndex: 0, yAxisIndex: 0},"
        " [0, 5])",
        _chart_id(page),
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(f"**/ui/tasks/{ids[5]}")


def _cancel(client: httpx.Client, task_id: str) -> None:
    response = client.post(f"/tasks/{task_id}/cancel", json={"reason": "test"})
    assert response.status_code == 200, response.text


def _statuses(client: httpx.Client, workflow_id: str) -> dict[str, set[int]]:
    """Return the workflow's task numbers (in its order) by status."""
    workflow = client.get(f"/workflows/{workflow_id}").json()
    found: dict[str, set[int]] = {s: set() for s in text.TASK_STATUSES}
    for number, item in enumerate(workflow["tasks"]):
        found[item["task"]["status"]].add(number)
    return found


def _chart_id(page: Page) -> int:
    element_id = page.get_by_test_id("workflow-graph").get_attribute("id")
    assert element_id is not None and element_id.startswith("c"), element_id
    return int(element_id[1:])


def _nodes_by_status(page: Page) -> dict[str, set[int]]:
    """Return the node numbers each scatter series of the graph draws now."""
    series: list[tuple[str, list[float]]] = page.evaluate(
        "(id) => getElement(id).chart.getOption().series"
        ".filter((s) => s.type === 'scatter')"
        ".map((s) => [s.name, Array.from(s.data)])",
        _chart_id(page),
    )
    labels = {text.label(s): s for s in text.TASK_STATUSES}
    return {labels[name]: {int(n) for n in data[2::3]} for name, data in series}


def _edges(page: Page) -> dict[str, int]:
    """Return how many arrows (polylines of 5 points) each lines series is given."""
    counts: dict[str, int] = page.evaluate(
        "(id) => Object.fromEntries(getElement(id).options.series"
        ".filter((s) => s.type === 'lines').map((s) => [s.name, s.data.length / 11]))",
        _chart_id(page),
    )
    return counts


def _layered(count: int, width: int) -> workflows_pb2.Workflow:
    """Return count tasks in layers of width, statuses in turn; each depends
    on the task above it, on success, failure or completion in turn."""
    conditions = [
        tasks_pb2.DEPENDENCY_CONDITION_SUCCESS,
        tasks_pb2.DEPENDENCY_CONDITION_FAILURE,
        tasks_pb2.DEPENDENCY_CONDITION_COMPLETION,
    ]
    tasks = [
        workflows_pb2.WorkflowTask(
            key=f"t{i}",
            task=tasks_pb2.Task(
                id=f"id-{i}", name=f"task <{i}>", status=f"TASK_STATUS_{status.upper()}"
            ),
        )
        for i, status in zip(range(count), cycle(text.TASK_STATUSES))
    ]
    edges = [
        workflows_pb2.WorkflowEdge(
            source_key=f"t{i - width}", target_key=f"t{i}", condition=conditions[i % 3]
        )
        for i in range(width, count)
    ]
    return workflows_pb2.Workflow(tasks=tasks, edges=edges)


def test_a_large_graph_ships_each_node_and_edge_once_as_packed_numbers() -> None:
    workflow = _layered(graph.LABELS_UP_TO + 50, width=100)
    drawing = graph.WorkflowGraph(workflow)
    options = drawing.options()

    series = options["series"]
    assert [s["type"] for s in series] == ["lines"] * 3 + ["scatter"] * 6
    assert all(s["large"] and s["largeThreshold"] == 1 for s in series)
    # Every node once, in its status's series, at (layer, row), numbered in
    # the workflow's task order.
    points = drawing.points()
    shipped = sorted(p for members in points for p in members)
    assert shipped == [(i // 100, i % 100, i) for i in range(len(workflow.tasks))]
    for status, members in zip(text.TASK_STATUSES, points, strict=True):
        expected = text.status_value(status)
        assert all(workflow.tasks[i].task.status == expected for *_, i in members)
    for nodes, members in zip(series[3:], points, strict=True):
        assert nodes[":data"] == f"new Float32Array([{_flat(members)}])"
    # Every edge once, in its condition's series, as (layer, row) pairs.
    coords = drawing.edge_coords()
    assert sum(len(c) for c in coords.values()) == len(workflow.edges)
    assert coords["failure"][0] == (0, 0, 1, 0)  # t0 -> t100
    for lines, condition in zip(series[:3], coords, strict=True):
        assert lines["name"] == condition
        assert f"([{_flat(coords[condition])}], " in lines[":data"]
    # Task names reach the tooltip as JSON, which the tooltip escapes.
    assert '["t7", "task <7>"]' in options["tooltip"][":formatter"]
    # A click names the point's value: [layer, row, node] here.
    assert drawing.task_id([1.0, 3.0, 103.0]) == "id-103"
    assert drawing.task_id(None) is None


def test_a_large_graph_recolours_its_nodes_and_keeps_its_edges() -> None:
    workflow = _layered(graph.LABELS_UP_TO + 50, width=100)
    drawing = graph.WorkflowGraph(workflow)
    options = drawing.options()
    edges = options["series"][:3]

    workflow.tasks[0].task.status = text.status_value("cancelled")
    assert drawing.recolor(options, workflow)
    assert not drawing.recolor(options, workflow)

    assert options["series"][:3] == edges
    cancelled = drawing.points()[text.TASK_STATUSES.index("cancelled")]
    assert (0, 0, 0) in cancelled
    assert options["series"][3:] == drawing.options()["series"][3:]


def _flat(items: Sequence[tuple[int, ...]]) -> str:
    return ",".join(str(n) for item in items for n in item)


def test_cancel_asks_first_then_retry_runs_the_cancelled_tasks_again(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        created = create_workflow(
            client,
            {
                "name": "stoppable",
                "tasks": [
                    {"key": "long", "command": "sleep 60"},
                    {"key": "after", "command": "true", "depends_on": ["long"]},
                ],
            },
        )
    open_page(page, ui_server, f"/ui/workflows/{created['id']}")
    expect(page.get_by_test_id("workflow-retry")).to_be_disabled()

    page.get_by_test_id("workflow-cancel").click()
    page.get_by_role("button", name="Keep it").click()
    with ui_server.client() as client:
        assert client.get(f"/workflows/{created['id']}").json()["status"] in (
            "pending",
            "running",
        )
    page.get_by_test_id("workflow-cancel").click()
    page.get_by_test_id("cancel-workflow-reason").fill("not today")
    page.get_by_test_id("confirm-cancel-workflow").click()

    expect(page.get_by_test_id("workflow-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("workflow-cancel")).to_be_disabled()
    with ui_server.client() as client:
        tasks = tasks_by_key(client.get(f"/workflows/{created['id']}").json())
    assert tasks["long"]["status"] == "cancelled"
    assert tasks["long"]["status_reason"] == "not today"

    page.get_by_test_id("workflow-retry").click()
    with ui_server.client() as client:
        wait_workflow(client, created["id"], "running", "pending")
        _cancel(client, tasks["long"]["id"])
    expect(page.get_by_test_id("workflow-status")).to_have_text("cancelled")
    with ui_server.client() as client:
        retried = tasks_by_key(client.get(f"/workflows/{created['id']}").json())
    assert retried["long"]["attempt"] == 2
