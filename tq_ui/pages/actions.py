"""Task actions shared by the task list and the task page: cancel, retry, delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from tq_grpc._gen import tasks_pb2
from tq_ui.backend import Api, UiError
from tq_ui.pages.shell import notify_error

DEFAULT_CANCEL_REASON = "cancelled from the dashboard"

Done = Callable[[], Awaitable[None] | None]


async def _after(done: Done | None) -> None:
    if done is None:
        return
    result = done()
    if result is not None:
        await result


def ask_cancel(api: Api, task_id: str, name: str, done: Done | None = None) -> None:
    """Open a dialog that cancels the task with a reason."""
    with ui.dialog() as dialog, ui.card().classes("w-96"):
        ui.label(f"Cancel {name}?").classes("text-h6")
        ui.label(
            "A running task's whole process group gets SIGTERM, then SIGKILL "
            "after the grace period."
        ).classes("text-grey-8")
        reason = ui.input("Reason", value=DEFAULT_CANCEL_REASON).classes("w-full")
        reason.props("data-testid=cancel-reason")

        async def confirm() -> None:
            button.disable()
            try:
                await api.call(
                    api.tasks.CancelTask,
                    tasks_pb2.CancelTaskRequest(
                        id=task_id, reason=reason.value or DEFAULT_CANCEL_REASON
                    ),
                )
            except UiError as exc:
                notify_error(exc)
                button.enable()
                return
            dialog.close()
            ui.notify(f"Cancelled {name}", type="positive")
            await _after(done)

        with ui.row().classes("w-full justify-end"):
            ui.button("Keep running", on_click=dialog.close).props("flat")
            button = ui.button("Cancel task", color="negative", on_click=confirm)
            button.props("data-testid=confirm-cancel")
    dialog.open()


async def retry(api: Api, task_id: str, name: str, done: Done | None = None) -> None:
    """Retry a task that ended, as a new attempt."""
    try:
        await api.call(api.tasks.RetryTask, tasks_pb2.RetryTaskRequest(id=task_id))
    except UiError as exc:
        notify_error(exc)
        return
    ui.notify(f"Retrying {name}", type="positive")
    await _after(done)


def ask_delete(api: Api, task_id: str, name: str, done: Done | None = None) -> None:
    """Open a dialog that deletes the task, optionally with its dependents."""
    with ui.dialog() as dialog, ui.card().classes("w-96"):
        ui.label(f"Delete {name}?").classes("text-h6")
        ui.label("Its record, history and log are removed for good.").classes(
            "text-grey-8"
        )
        cascade = ui.checkbox("Also delete every task that depends on it")

        async def confirm() -> None:
            button.disable()
            try:
                answer = await api.call(
                    api.tasks.DeleteTask,
                    tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade.value),
                )
            except UiError as exc:
                notify_error(exc)
                button.enable()
                return
            dialog.close()
            extra = len(answer.deleted_ids) - 1
            suffix = f" and {extra} dependent task(s)" if extra > 0 else ""
            ui.notify(f"Deleted {name}{suffix}", type="positive")
            await _after(done)

        with ui.row().classes("w-full justify-end"):
            ui.button("Keep", on_click=dialog.close).props("flat")
            button = ui.button("Delete", color="negative", on_click=confirm)
            button.props("data-testid=confirm-delete")
    dialog.open()
