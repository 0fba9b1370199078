"""The tools, one module per subject; ``tool_functions`` lists them in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tq_mcp.gateway import Gateway
from tq_mcp.tools.development import DevelopmentTools
from tq_mcp.tools.projects import ProjectTools
from tq_mcp.tools.system import SystemTools
from tq_mcp.tools.tasks import TaskTools
from tq_mcp.tools.workflows import WorkflowTools

# The seed's thirteen first, then the rest.
TOOL_ORDER = (
    "submit_task",
    "get_task",
    "list_tasks",
    "update_task",
    "cancel_task",
    "delete_task",
    "create_project",
    "get_project",
    "list_projects",
    "advance_workflow_phase",
    "set_technical_documentation",
    "set_test_coverage",
    "add_ai_review_report",
    "get_task_logs",
    "retry_task",
    "create_workflow",
    "get_workflow",
    "next_task",
    "get_stats",
)


def tool_functions(gateway: Gateway) -> list[Callable[..., Any]]:
    """Return every tool, bound to gateway, in TOOL_ORDER."""
    groups = (
        TaskTools(gateway),
        ProjectTools(gateway),
        WorkflowTools(gateway),
        DevelopmentTools(gateway),
        SystemTools(gateway),
    )
    found = {
        name: getattr(group, name)
        for group in groups
        for name in dir(type(group))
        if name in TOOL_ORDER
    }
    return [found[name] for name in TOOL_ORDER]
