"""/ui/projects: the project tree, per-project counts, create, edit and delete."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request
from nicegui import Client, ui
from starlette.responses import Response

from tq_grpc._gen import projects_pb2
from tq_ui import text
from tq_ui.backend import Api, UiError
from tq_ui.dashboard import Dashboard
from tq_ui.forms import TagsInput
from tq_ui.hub import Change
from tq_ui.live import Refresher, follow
from tq_ui.pages import shell, tables
from tq_ui.reads import all_projects

COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left"},
    {"name": "counts", "label": "Tasks", "field": "counts", "align": "left"},
    {
        "name": "max_parallel",
        "label": "Max parallel",
        "field": "max_parallel",
        "align": "right",
    },
    {"name": "gates", "label": "Gates", "field": "gates", "align": "left"},
    {"name": "tags", "label": "Tags", "field": "tags", "align": "left"},
    {"name": "actions", "label": "", "field": "id", "align": "right"},
]
CELLS = {
    "name": r"""
<div :style="{paddingLeft: (Math.min(props.row.depth, 12) * 1.5) + 'rem'}"
     :title="props.row.depth > 12 ? 'nested ' + props.row.depth + ' deep' : ''">
  <i v-if="props.row.depth" class="q-icon material-icons text-grey-6">
    subdirectory_arrow_right</i>
  <a :href="'/ui/tasks?project=' + props.row.id" class="text-primary text-weight-medium"
     :data-testid="'project-' + props.row.name">{{ props.row.name }}</a>
  <div class="text-caption text-grey-7">{{ props.row.description }}</div>
</div>
""",
    "status": r"""
<span class="tq-badge tq-outline text-primary">{{ props.row.status }}</span>
""",
    "counts": r"""
<span :data-testid="'project-counts-' + props.row.name">
  <span class="text-weight-medium">{{ props.row.total }}</span>
  <span v-for="part in props.row.parts" :key="part.status"
        :class="'tq-badge q-ml-sm bg-' + part.color">{{ part.label }}</span>
</span>
""",
    "actions": r"""
<button class="text-primary" title="Edit" :data-testid="'edit-' + props.row.name"
        @click="() => $parent.$emit('edit', props.row)">
  <i class="q-icon material-icons">edit</i></button>
<button class="text-grey-8" title="Delete" :data-testid="'delete-' + props.row.name"
        @click="() => $parent.$emit('delete', props.row)">
  <i class="q-icon material-icons">delete</i></button>
""",
}


def tree_order(
    projects: list[projects_pb2.Project],
) -> list[tuple[projects_pb2.Project, int]]:
    """Return projects depth-first under their parents, with their depth."""
    known = {p.id for p in projects}
    children: dict[str, list[projects_pb2.Project]] = {}
    for project in projects:
        parent = project.parent_id if project.parent_id in known else ""
        children.setdefault(parent, []).append(project)
    ordered: list[tuple[projects_pb2.Project, int]] = []
    seen: set[str] = set()
    stack = [
        (p, 0)
        for p in reversed(sorted(children.get("", []), key=lambda p: p.name.lower()))
    ]
    while stack:
        project, depth = stack.pop()
        if project.id in seen:
            continue
        seen.add(project.id)
        ordered.append((project, depth))
        below = sorted(children.get(project.id, []), key=lambda p: p.name.lower())
        stack.extend((child, depth + 1) for child in reversed(below))
    # A cycle of parents (never made by the server) still shows every project.
    ordered.extend((p, 0) for p in projects if p.id not in seen)
    return ordered


def parent_choices(
    projects: list[projects_pb2.Project], editing: projects_pb2.Project | None
) -> dict[str, str]:
    """Return the parents a project may take, by id: not itself nor below it.

    Projects of one name are told apart by their short ids.
    """
    below = _descendants(projects, editing.id) if editing else set()
    named = Counter(p.name for p in projects)
    return {"": "none (top level)"} | {
        p.id: p.name if named[p.name] == 1 else f"{p.name} · {text.short_id(p.id)}"
        for p in projects
        if p.id not in below and (editing is None or p.id != editing.id)
    }


def register(dashboard: Dashboard) -> None:
    """Add the projects page."""

    @ui.page(
        "/ui/projects",
        title="Projects · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def projects_page(request: Request, client: Client) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Projects"):
            view = ProjectsView(context)
            await view.build()
        return None


class ProjectsView:
    """The project table with each project's task counts."""

    def __init__(self, context: shell.PageContext) -> None:
        self.context = context
        self.api = context.api
        self.projects: list[projects_pb2.Project] = []

    async def build(self) -> None:
        """Draw the table and keep it current."""
        self.errors = shell.ErrorBanner()
        with ui.row().classes("w-full items-center"):
            ui.label("Projects").classes("text-h5")
            ui.space()
            ui.button(
                "New project", icon="add", on_click=lambda: self._edit(None)
            ).props("data-testid=new-project")
        self.table = tables.table(COLUMNS, CELLS)
        self.table.props("data-testid=projects-table")
        self.table.on("edit", lambda e: self._edit(self._project(e.args["id"])))
        self.table.on("delete", lambda e: self._delete(e.args))
        self.reloader = Refresher(self.context.client, self.refresh)
        follow(self.context.client, self.context.hub, self._on_change, state=True)
        await self.refresh()
        self.reloader.start()

    def _project(self, project_id: str) -> projects_pb2.Project | None:
        return next((p for p in self.projects if p.id == project_id), None)

    def _on_change(self, change: Change) -> None:
        # Counts move with the events of tasks in a project.
        if change.state or change.resync or any(e.project_id for e in change.events):
            self.reloader.poke()

    async def refresh(self) -> None:
        """Read the projects again and redraw the table."""
        try:
            self.projects = await all_projects(self.api)
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        self._draw()

    def _draw(self) -> None:
        names = {p.id: p.name for p in self.projects}
        rows = []
        for project, depth in tree_order(self.projects):
            rows.append(
                {
                    "id": project.id,
                    "name": project.name,
                    "description": project.description,
                    "depth": depth,
                    "parent": names.get(project.parent_id, ""),
                    "status": text.label(text.project_status_name(project.status)),
                    "max_parallel": project.max_parallel or "no limit",
                    "gates": (
                        f"coverage ≥ {project.coverage_threshold:g}%, "
                        f"{project.required_reviews} review(s)"
                    ),
                    "tags": ", ".join(project.tags),
                    **_count_cells(project),
                }
            )
        self.table.rows = rows
        self.table.update()

    def _edit(self, project: projects_pb2.Project | None) -> None:
        open_project_dialog(self.api, self.projects, project, self.refresh)

    def _delete(self, row: dict[str, Any]) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(f"Delete project {row['name']}?").classes("text-h6")
            cascade = ui.checkbox(
                "Also delete its tasks (running ones are cancelled first)"
            ).props("data-testid=delete-project-cascade")

            async def confirm() -> None:
                try:
                    answer = await self.api.call(
                        self.api.projects.DeleteProject,
                        projects_pb2.DeleteProjectRequest(
                            id=row["id"], cascade=cascade.value
                        ),
                    )
                except UiError as exc:
                    shell.notify_error(exc)
                    return
                dialog.close()
                ui.notify(
                    f"Deleted {row['name']} and {answer.deleted_tasks} task(s)",
                    type="positive",
                )
                await self.refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button("Keep", on_click=dialog.close).props("flat")
                ui.button("Delete", color="negative", on_click=confirm).props(
                    "data-testid=confirm-delete-project"
                )
        dialog.open()


def _count_cells(project: projects_pb2.Project) -> dict[str, Any]:
    counts = project.tasks_by_status
    parts = [
        {
            "status": status,
            "label": f"{text.count(counts[status])} {text.label(status)}",
            "color": text.STATUS_COLORS[status],
        }
        for status in text.TASK_STATUSES
        if counts.get(status)
    ]
    return {"total": f"{text.count(sum(counts.values()))} total", "parts": parts}


def open_project_dialog(
    api: Api,
    projects: list[projects_pb2.Project],
    project: projects_pb2.Project | None,
    done: Any,
) -> None:
    """Open the dialog that creates a project, or edits the one given."""
    parents = parent_choices(projects, project)
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-xl"):
        ui.label("Edit project" if project else "New project").classes("text-h6")
        with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-1"):
            name = ui.input("Name *", value=project.name if project else "").props(
                "data-testid=project-name autofocus"
            )
            status = ui.select(
                {s: text.label(s) for s in text.PROJECT_STATUSES},
                label="Status",
                value=text.project_status_name(project.status) if project else "active",
            ).props("data-testid=project-status")
            description = (
                ui.textarea("Description", value=project.description if project else "")
                .classes("col-span-2")
                .props("autogrow")
            )
            parent = ui.select(
                parents, label="Parent", value=project.parent_id if project else ""
            ).props("data-testid=project-parent")
            tags = TagsInput("Tags", value=project.tags if project else ())
            tags.props("data-testid=project-tags")
            max_parallel = ui.number(
                "Max parallel (0: no limit)",
                value=project.max_parallel if project else 0,
                min=0,
                precision=0,
            ).props("data-testid=project-max-parallel")
            coverage = ui.number(
                "Coverage threshold (%)",
                value=project.coverage_threshold if project else 90,
                min=0,
                max=100,
            )
            reviews = ui.number(
                "Required reviews",
                value=project.required_reviews if project else 3,
                min=0,
                precision=0,
            )
        problem = (
            ui.label("").classes("text-negative").props("data-testid=project-error")
        )

        async def save() -> None:
            if not (name.value or "").strip():
                problem.set_text("Name: a project needs a name.")
                return
            try:
                if project is None:
                    await api.call(
                        api.projects.CreateProject,
                        projects_pb2.CreateProjectRequest(
                            name=name.value.strip(),
                            description=description.value or "",
                            status=text.project_status_value(status.value),
                            parent_id=parent.value or "",
                            tags=list(tags.value or []),
                            max_parallel=int(max_parallel.value or 0),
                            coverage_threshold=float(coverage.value or 0),
                            required_reviews=int(reviews.value or 0),
                        ),
                    )
                else:
                    await api.call(
                        api.projects.UpdateProject,
                        projects_pb2.UpdateProjectRequest(
                            id=project.id,
                            name=name.value.strip(),
                            description=description.value or "",
                            status=text.project_status_value(status.value),
                            parent_id=parent.value or "",
                            tags=list(tags.value or []),
                            update_tags=True,
                            max_parallel=int(max_parallel.value or 0),
                            coverage_threshold=float(coverage.value or 0),
                            required_reviews=int(reviews.value or 0),
                        ),
                    )
            except UiError as exc:
                problem.set_text(exc.message)
                return
            except (TypeError, ValueError):
                problem.set_text("Numbers: give whole numbers of 0 or more.")
                return
            dialog.close()
            ui.notify("Saved", type="positive")
            await done()

        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
            ui.button("Save", icon="save", on_click=save).props(
                "data-testid=project-save"
            )
    dialog.open()


def _descendants(projects: list[projects_pb2.Project], root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for project in projects:
        children.setdefault(project.parent_id, []).append(project.id)
    found: set[str] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
