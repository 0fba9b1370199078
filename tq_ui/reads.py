"""Reads several pages share, and how a task becomes a table row."""

from __future__ import annotations

from typing import Any

from tq_grpc._gen import projects_pb2, tasks_pb2
from tq_ui import text
from tq_ui.backend import Api

PROJECT_PAGE_SIZE = 1_000
MAX_PROJECTS = 10_000


async def all_projects(api: Api) -> list[projects_pb2.Project]:
    """Return every project (they are few and held in the server's memory)."""
    projects: list[projects_pb2.Project] = []
    token = ""
    while len(projects) < MAX_PROJECTS:
        page = await api.call(
            api.projects.ListProjects,
            projects_pb2.ListProjectsRequest(
                page_size=PROJECT_PAGE_SIZE, page_token=token
            ),
        )
        projects.extend(page.projects)
        token = page.next_page_token
        if not token:
            break
    return projects


def task_row(task: tasks_pb2.Task, project_names: dict[str, str]) -> dict[str, Any]:
    """Return a task as a row of the task tables (strings and flags only)."""
    status = text.status_name(task.status)
    priority = text.priority_name(task.priority)
    return {
        "id": task.id,
        "short_id": text.short_id(task.id),
        "name": task.name,
        "command": task.command if len(task.command) <= 80 else task.command[:77] + "…",
        "status": status,
        "status_label": text.label(status),
        "status_color": text.STATUS_COLORS.get(status, "grey-5"),
        "priority": priority,
        "priority_color": text.PRIORITY_COLORS.get(priority, "grey-5"),
        "project": project_names.get(task.project_id, text.short_id(task.project_id))
        if task.project_id
        else "",
        "project_id": task.project_id,
        "attempt": task.attempt,
        "exit_code": str(task.exit_code) if task.HasField("exit_code") else "",
        "created": text.when(task.created_at),
        "started": text.when(task.started_at),
        "run_time": text.run_time(task),
        "blocked_by": task.blocked_by,
        "reason": task.status_reason,
        "tags": ", ".join(task.tags),
        "can_cancel": status not in text.TERMINAL,
        "can_retry": status in text.TERMINAL,
    }
