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

    async def cancel(reason: str) -> bool:
        try:
            await api.call(
                api.tasks.CancelTask,
                tasks_pb2.CancelTaskRequest(id=task_id, reason=reason),
            )
        except UiError as exc:
            notify_error(exc)
            return False
        ui.notify(f"Cancelled {name}", type="positive")
        await _after(done)
        return True

    ask_reason(
        f"Cancel {name}?",
        "A running task's whole process group gets SIGTERM, then SIGKILL "
        "after the grace period.",
        ("Keep running", "Cancel task"),
        "cancel",
        cancel,
    )


def ask_reason(
    title: str,
    detail: str,
    buttons: tuple[str, str],
    test_id: str,
    cancel: Callable[[str], Awaitable[bool]],
) -> None:
    """Open a dialog that asks for a cancel's reason, then runs cancel(reason).

    buttons: the labels of keeping and of cancelling; the dialog stays open
    when cancel answers False (it has told the user why).
    """
    with ui.dialog() as dialog, ui.card().classes("w-96"):
        ui.label(title).classes("text-h6")
        ui.label(detail).classes("text-grey-8")
        reason = ui.input("Reason", value=DEFAULT_CANCEL_REASON).classes("w-full")
        reason.props(f"data-testid={test_id}-reason")

        async def confirm() -> None:
            button.disable()
            if await cancel(reason.value or DEFAULT_CANCEL_REASON):
                dialog.close()
            else:
                button.enable()

        keep, act = buttons
        with ui.row().classes("w-full justify-end"):
            ui.button(keep, on_click=dialog.close).props("flat")
            button = ui.button(act, color="negative", on_click=confirm)
            button.props(f"data-testid=confirm-{test_id}")
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
