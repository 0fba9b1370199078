"""The dashboard's pages; ``register`` adds them all to NiceGUI's router."""

from __future__ import annotations

from tq_ui.dashboard import Dashboard
from tq_ui.pages import (
    login,
    overview,
    projects,
    settings,
    task_detail,
    tasks,
    workflows,
)


def register(dashboard: Dashboard) -> None:
    """Add every page; each reads through the dashboard's stubs."""
    for module in (login, overview, tasks, task_detail, projects, workflows, settings):
        module.register(dashboard)
