"""The dashboard's pure parts: form parsing, graph layout, the project tree, paths."""

from __future__ import annotations

import pytest

from tq_grpc._gen import projects_pb2, tasks_pb2, workflows_pb2
from tq_ui import graph, is_dashboard_path
from tq_ui.forms import FormError, TaskForm, parse_dependencies, parse_env, parse_time
from tq_ui.pages.projects import parent_choices, tree_order


def test_a_form_becomes_a_spec_with_every_field() -> None:
    spec = TaskForm(
        name=" build ",
        command="make",
        project_id="p",
        priority="high",
        depends_on="a\nb failure, c completion",
        env="# comment\nA=1\n\nB=x=y",
        timeout_seconds=10,
        max_retries=2,
        retry_delay_seconds=0.5,
        start_after="2030-01-31T12:00",
        tags=["x", " ", "y"],
        idempotency_key="k",
        development_workflow=True,
    ).to_spec()

    assert spec.name == "build"
    assert spec.priority == 3
    assert [(d.task_id, d.condition) for d in spec.depends_on] == [
        ("a", tasks_pb2.DEPENDENCY_CONDITION_SUCCESS),
        ("b", tasks_pb2.DEPENDENCY_CONDITION_FAILURE),
        ("c", tasks_pb2.DEPENDENCY_CONDITION_COMPLETION),
    ]
    assert dict(spec.env) == {"A": "1", "B": "x=y"}
    assert (spec.timeout_seconds, spec.max_retries, spec.retry_delay_seconds) == (
        10,
        2,
        0.5,
    )
    assert spec.start_after.ToJsonString() == "2030-01-31T12:00:00Z"
    assert list(spec.tags) == ["x", "y"]
    assert spec.development_workflow


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (TaskForm(name=""), "Name"),
        (TaskForm(name="t", env="1A=x"), "Environment"),
        (TaskForm(name="t", depends_on="a sometimes"), "Depends on"),
        (TaskForm(name="t", depends_on="a b c"), "Depends on"),
        (TaskForm(name="t", timeout_seconds=1.5), "Timeout"),
        (TaskForm(name="t", max_retries=-1), "Max retries"),
        (TaskForm(name="t", start_after="tomorrow"), "Start after"),
    ],
)
def test_a_bad_field_is_named(form: TaskForm, field: str) -> None:
    with pytest.raises(FormError, match=f"^{field}"):
        form.to_spec()


def test_times_keep_their_offset_and_naive_times_are_utc() -> None:
    assert (
        parse_time("2030-01-31T12:00:00+02:00").ToJsonString() == "2030-01-31T10:00:00Z"
    )
    assert parse_time("2030-01-31 12:00:05Z").ToJsonString() == "2030-01-31T12:00:05Z"
    assert parse_env("") == {}
    assert parse_dependencies(" \n ") == []


def test_layers_put_each_task_right_of_its_deepest_dependency() -> None:
    layer = graph.layers(
        ["a", "b", "c", "d", "lone"], [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")]
    )
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 3, "lone": 0}


def test_a_graph_has_one_node_per_task_and_keeps_its_layout_when_recoloured() -> None:
    workflow = workflows_pb2.Workflow(
        tasks=[
            workflows_pb2.WorkflowTask(
                key=k, task=tasks_pb2.Task(id=f"id-{k}", name=k, status=1)
            )
            for k in ("x", "y", "z")
        ],
        edges=[
            workflows_pb2.WorkflowEdge(source_key="x", target_key="y"),
            workflows_pb2.WorkflowEdge(source_key="x", target_key="z", condition=2),
        ],
    )
    options = graph.chart_options(workflow)
    series = options["series"][0]
    assert [n["name"] for n in series["data"]] == ["x", "y", "z"]
    assert [n["value"] for n in series["data"]] == ["id-x", "id-y", "id-z"]
    assert [(e["source"], e["target"]) for e in series["links"]] == [
        ("x", "y"),
        ("x", "z"),
    ]
    assert series["links"][1]["label"]["formatter"] == "failure"
    categories = [c["name"] for c in series["categories"]]
    assert [categories[n["category"]] for n in series["data"]] == ["pending"] * 3
    positions = [(n["x"], n["y"]) for n in series["data"]]

    workflow.tasks[1].task.status = 4
    assert graph.recolor(options, workflow)
    assert not graph.recolor(options, workflow)
    assert categories[series["data"][1]["category"]] == "completed"
    assert series["categories"][series["data"][1]["category"]]["itemStyle"] == {
        "color": "#388e3c"
    }
    assert [(n["x"], n["y"]) for n in series["data"]] == positions


def test_projects_are_listed_depth_first_under_their_parents() -> None:
    projects = [
        projects_pb2.Project(id="c", name="child", parent_id="p"),
        projects_pb2.Project(id="p", name="Parent"),
        projects_pb2.Project(id="g", name="grandchild", parent_id="c"),
        projects_pb2.Project(id="o", name="orphan", parent_id="gone"),
        projects_pb2.Project(id="a", name="another"),
    ]
    assert [(p.name, depth) for p, depth in tree_order(projects)] == [
        ("another", 0),
        ("orphan", 0),
        ("Parent", 0),
        ("child", 1),
        ("grandchild", 2),
    ]


@pytest.mark.parametrize(
    ("path", "owned"),
    [
        ("/", True),
        ("/ui", True),
        ("/ui/tasks/123", True),
        ("/_nicegui/3.18.0/static/quasar.js", True),
        ("/_nicegui_ws/socket.io/", True),
        ("/tasks", False),
        ("/mcp", False),
        ("/uix", False),
        ("/health", False),
    ],
)
def test_the_dashboard_owns_its_paths_only(path: str, owned: bool) -> None:
    assert is_dashboard_path(path) is owned


def test_parents_of_one_name_are_told_apart_and_a_project_is_not_its_own() -> None:
    projects = [
        projects_pb2.Project(id="aaaaaaaa-1", name="web"),
        projects_pb2.Project(id="bbbbbbbb-2", name="web"),
        projects_pb2.Project(id="cccccccc-3", name="api", parent_id="aaaaaaaa-1"),
        projects_pb2.Project(id="dddddddd-4", name="docs"),
    ]

    choices = parent_choices(projects, projects[0])

    assert choices == {
        "": "none (top level)",
        "bbbbbbbb-2": "web · bbbbbbbb",
        "dddddddd-4": "docs",
    }
