"""The dialog that changes a task's fields: what `tasks update` does."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from tq_grpc._gen import tasks_pb2
from tq_ui import text
from tq_ui.backend import Api, UiError
from tq_ui.forms import FormError, parse_dependencies, parse_env, parse_time, whole
from tq_ui.pages.shell import notify_error

Done = Callable[[], Awaitable[None]]
MAX_INT32 = 2**31 - 1


def current_values(task: tasks_pb2.Task) -> dict[str, Any]:
    """Return the dialog's fields as the task has them now."""
    return {
        "name": task.name,
        "description": task.description,
        "command": task.command,
        "priority": text.priority_name(task.priority) or "normal",
        "working_dir": task.working_dir,
        "env": "\n".join(f"{k}={v}" for k, v in sorted(task.env.items())),
        "timeout_seconds": task.timeout_seconds,
        "max_retries": task.max_retries,
        "retry_delay_seconds": task.retry_delay_seconds,
        "tags": ", ".join(task.tags),
        "depends_on": "\n".join(
            f"{d.task_id} {text.condition_name(d.condition)}" for d in task.depends_on
        ),
        "start_after": (
            task.start_after.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S")
            if text.is_set(task.start_after)
            else ""
        ),
    }


def update_request(
    task_id: str, before: dict[str, Any], after: dict[str, Any]
) -> tasks_pb2.UpdateTaskRequest:
    """Return an UpdateTaskRequest with only the fields that changed.

    Raises:
        FormError: naming a field that cannot be sent.
    """
    request = tasks_pb2.UpdateTaskRequest(id=task_id)
    changed = {name for name in after if after[name] != before[name]}
    if "name" in changed:
        if not str(after["name"]).strip():
            raise FormError("Name: a task needs a name.")
        request.name = after["name"].strip()
    for name in ("description", "command", "working_dir"):
        if name in changed:
            setattr(request, name, after[name] or "")
    if "priority" in changed:
        request.priority = text.priority_value(after["priority"])
    _numbers(request, changed, after)
    _lists(request, changed, after)
    if "start_after" in changed:
        if str(after["start_after"] or "").strip():
            try:
                request.start_after.CopyFrom(parse_time(after["start_after"]))
            except (OverflowError, ValueError) as exc:
                if isinstance(exc, FormError):
                    raise
                raise FormError("Start after: the time is out of range.") from None
        else:
            request.clear_start_after = True
    return request


def _bounded(value: Any, name: str) -> int:
    """Return a whole number the wire can carry; FormError naming name if not."""
    if value is not None and not math.isfinite(value):
        raise FormError(f"{name}: give a whole number, 0 or more.")
    number = whole(value, name)
    if number > MAX_INT32:
        raise FormError(f"{name}: at most {MAX_INT32:,}.")
    return number


def _numbers(
    request: tasks_pb2.UpdateTaskRequest, changed: set[str], after: dict[str, Any]
) -> None:
    if "timeout_seconds" in changed:
        request.timeout_seconds = _bounded(after["timeout_seconds"], "Timeout")
    if "max_retries" in changed:
        request.max_retries = _bounded(after["max_retries"], "Max retries")
    if "retry_delay_seconds" in changed:
        delay = float(after["retry_delay_seconds"] or 0)
        if not math.isfinite(delay) or delay < 0:
            raise FormError("Retry delay: give 0 or more seconds.")
        request.retry_delay_seconds = delay


def _lists(
    request: tasks_pb2.UpdateTaskRequest, changed: set[str], after: dict[str, Any]
) -> None:
    if "env" in changed:
        request.env.update(parse_env(after["env"] or ""))
        request.update_env = True
    if "tags" in changed:
        request.tags.extend(
            t.strip() for t in str(after["tags"] or "").split(",") if t.strip()
        )
        request.update_tags = True
    if "depends_on" in changed:
        request.depends_on.extend(parse_dependencies(after["depends_on"] or ""))
        request.update_depends_on = True


def open_edit_dialog(api: Api, task: tasks_pb2.Task, done: Done) -> None:
    """Open the dialog with the task's values; save sends what changed."""
    before = current_values(task)
    with ui.dialog() as dialog, ui.card().classes("w-[40rem] max-w-full"):
        ui.label(f"Edit {task.name}").classes("text-h6")
        ui.label(
            "A running task keeps its command and settings until its next run."
        ).classes("text-grey-8")
        inputs: dict[str, Any] = {
            "name": ui.input("Name"),
            "description": ui.input("Description"),
            "command": ui.textarea("Command").props("autogrow"),
            "priority": ui.select(
                {p: text.label(p) for p in text.PRIORITIES}, label="Priority"
            ),
            "working_dir": ui.input("Working directory"),
            "env": ui.textarea("Environment (NAME=value lines)").props("autogrow"),
            "timeout_seconds": ui.number("Timeout (s, 0: none)", min=0),
            "max_retries": ui.number("Max retries", min=0),
            "retry_delay_seconds": ui.number("Retry delay (s)", min=0),
            "tags": ui.input("Tags (comma-separated)"),
            "depends_on": ui.textarea(
                "Depends on (task id [success|failure|completion], one a line)"
            ).props("autogrow"),
            "start_after": ui.input("Start after (UTC, or with an offset)"),
        }
        for name, element in inputs.items():
            element.value = before[name]
            element.classes("w-full").props(f"data-testid=edit-{name}")

        async def save() -> None:
            after = {name: element.value for name, element in inputs.items()}
            try:
                request = update_request(task.id, before, after)
            except FormError as exc:
                ui.notify(str(exc), type="negative")
                return
            button.disable()
            try:
                await api.call(api.tasks.UpdateTask, request)
            except UiError as exc:
                notify_error(exc)
                button.enable()
                return
            dialog.close()
            ui.notify(f"Saved {after['name']}", type="positive")
            await done()

        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
            button = ui.button("Save", icon="save", on_click=save)
            button.props("data-testid=edit-save")
    dialog.open()
