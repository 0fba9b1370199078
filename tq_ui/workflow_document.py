"""A workflow document, as `task-queue workflows create -f` reads it, to a request.

The document is YAML or JSON: ``name``, ``description``, ``project_id`` and
``tasks``, each task a ``key`` with the fields of a task; its ``depends_on``
lists keys (a bare key is a success edge, ``{key, condition}`` names the
condition) or ``{task_id, condition}`` for a task outside the workflow.
Values are checked by protobuf's JSON parser; the server checks the rest
(keys, cycles, limits) and names the field it refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from google.protobuf import json_format

from tq_grpc._gen import workflows_pb2

WORKFLOW_FIELDS = {"name", "description", "project_id", "tasks"}
TASK_FIELDS = {
    "key",
    "name",
    "command",
    "description",
    "project_id",
    "priority",
    "depends_on",
    "working_dir",
    "env",
    "timeout_seconds",
    "max_retries",
    "retry_delay_seconds",
    "start_after",
    "tags",
    "idempotency_key",
    "development_workflow",
}
MAX_DOCUMENT_CHARS = 8 * 1024 * 1024
CONDITIONS = ("success", "failure", "completion")
PRIORITIES = ("low", "normal", "high", "critical")


class DocumentError(ValueError):
    """A workflow document that cannot become a request; says where."""


class _NoAliases(yaml.SafeLoader):
    """SafeLoader that refuses aliases: a few lines of them can expand to
    billions of nodes (a "billion laughs" document)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise DocumentError(
                f"line {event.start_mark.line + 1}: YAML aliases (*name) are "
                "not accepted; write the value out."
            )
        return super().compose_node(parent, index)


def parse_workflow(source: str) -> workflows_pb2.CreateWorkflowRequest:
    """Return the CreateWorkflowRequest of a YAML or JSON workflow document.

    Raises:
        DocumentError: naming the field (e.g. ``tasks[1].comand``).
    """
    if len(source) > MAX_DOCUMENT_CHARS:
        raise DocumentError(f"the document is over {MAX_DOCUMENT_CHARS:,} characters.")
    try:
        document = yaml.load(source, Loader=_NoAliases)  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        raise DocumentError(f"not YAML or JSON: {exc}") from None
    except RecursionError:
        raise DocumentError("the document is nested too deeply.") from None
    if not isinstance(document, Mapping):
        raise DocumentError("expected a mapping with name and tasks.")
    _known(document, WORKFLOW_FIELDS, "")
    tasks = document.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise DocumentError("tasks: expected a list of at least one task.")
    wire = {
        "name": document.get("name"),
        "description": document.get("description"),
        "projectId": document.get("project_id"),
        "tasks": [_task(item, f"tasks[{i}]") for i, item in enumerate(tasks)],
    }
    request = workflows_pb2.CreateWorkflowRequest()
    try:
        json_format.ParseDict(_without_none(wire), request)
    except json_format.ParseError as exc:
        raise DocumentError(str(exc)) from None
    except RecursionError:
        raise DocumentError("the document is nested too deeply.") from None
    return request


def _task(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise DocumentError(f"{path}: expected a mapping with a key and fields.")
    _known(item, TASK_FIELDS, path)
    inside: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    edges = item.get("depends_on")
    if edges is not None and not isinstance(edges, list):
        raise DocumentError(f"{path}.depends_on: expected a list.")
    for index, edge in enumerate(edges or []):
        field = f"{path}.depends_on[{index}]"
        if isinstance(edge, str):
            inside.append({"key": edge, "condition": _condition("success", field)})
        elif isinstance(edge, Mapping) and ("key" in edge) != ("task_id" in edge):
            condition = _condition(edge.get("condition", "success"), field)
            if "key" in edge:
                inside.append({"key": edge["key"], "condition": condition})
            else:
                outside.append({"taskId": edge["task_id"], "condition": condition})
        else:
            raise DocumentError(
                f"{field}: expected a key, {{key, condition}} or "
                "{task_id, condition}."
            )
    priority = item.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise DocumentError(
            f"{path}.priority: expected one of {', '.join(PRIORITIES)}."
        )
    spec = {
        "name": item.get("name") or item.get("key"),
        "command": item.get("command"),
        "description": item.get("description"),
        "projectId": item.get("project_id"),
        "priority": f"PRIORITY_{str(priority).upper()}" if priority else None,
        "dependsOn": outside,
        "workingDir": item.get("working_dir"),
        "env": item.get("env"),
        "timeoutSeconds": item.get("timeout_seconds"),
        "maxRetries": item.get("max_retries"),
        "retryDelaySeconds": item.get("retry_delay_seconds"),
        "startAfter": _time(item.get("start_after")),
        "tags": item.get("tags"),
        "idempotencyKey": item.get("idempotency_key"),
        "developmentWorkflow": item.get("development_workflow"),
    }
    return {"key": item.get("key"), "task": spec, "dependsOn": inside}


def _condition(value: Any, field: str) -> str:
    if value not in CONDITIONS:
        raise DocumentError(
            f"{field}.condition: expected one of {', '.join(CONDITIONS)}."
        )
    return f"DEPENDENCY_CONDITION_{str(value).upper()}"


def _time(value: Any) -> Any:
    # YAML reads an unquoted timestamp as a datetime; the parser wants text.
    return value.isoformat() if hasattr(value, "isoformat") else value


def _known(document: Mapping[str, Any], fields: set[str], path: str) -> None:
    for name in document:
        if name not in fields:
            where = f"{path}.{name}" if path else str(name)
            raise DocumentError(f"{where}: unknown field.")


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
