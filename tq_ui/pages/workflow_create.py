"""The dialog that creates a workflow from a YAML or JSON document."""

from __future__ import annotations

import asyncio

from nicegui import events, ui

from tq_ui.backend import Api, UiError
from tq_ui.pages.shell import notify_error
from tq_ui.workflow_document import DocumentError, parse_workflow

EXAMPLE = """\
name: build
description: fetch, then build and lint in parallel, then test
tasks:
  - key: fetch
    command: echo fetching
  - key: build
    command: echo building
    depends_on: [fetch]
  - key: lint
    command: echo linting
    depends_on: [fetch]
  - key: test
    command: echo testing
    depends_on: [build, lint]
  - key: report-failure
    command: echo the tests failed
    depends_on: [{key: test, condition: failure}]
"""
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
# What the browser may send of a typed document: NiceGUI drops a message
# over 1 MB, which would leave the server with the text as it was before.
MAX_TYPED_CHARS = 900_000


def open_workflow_dialog(api: Api) -> None:
    """Open the dialog; a created workflow opens its page."""
    with ui.dialog() as dialog, ui.card().classes("w-[48rem] max-w-full"):
        ui.label("New workflow").classes("text-h6")
        ui.label(
            "The document `task-queue workflows create -f` reads: name, "
            "description, project_id and tasks; each task has a key, the "
            "fields of a task, and depends_on (keys, {key, condition} or "
            "{task_id, condition})."
        ).classes("text-grey-8")
        source = (
            ui.textarea("YAML or JSON", value=EXAMPLE)
            .classes("w-full font-mono")
            .props(
                "outlined autogrow input-style='min-height: 18rem' "
                f"maxlength={MAX_TYPED_CHARS} counter"
            )
        )
        source.props("data-testid=workflow-document")
        problem = ui.label("").classes("text-negative whitespace-pre-wrap")
        problem.props("data-testid=workflow-problem")

        loaded: dict[str, str] = {}

        async def load(event: events.UploadEventArguments) -> None:
            data = await event.file.read()
            try:
                document = data.decode("utf-8")
            except UnicodeDecodeError:
                problem.set_text(f"{event.file.name}: not UTF-8 text.")
                return
            problem.set_text("")
            if len(document) > MAX_TYPED_CHARS:
                # Too big to show and send back: keep it here, show a note.
                loaded["document"] = document
                loaded["note"] = f"# {event.file.name}: {len(document):,} characters"
                source.value = loaded["note"]
            else:
                loaded.clear()
                source.value = document

        ui.upload(
            label="…or load a file",
            auto_upload=True,
            max_file_size=MAX_DOCUMENT_BYTES,
            on_upload=load,
        ).props("accept=.yaml,.yml,.json flat bordered").classes("w-full")

        async def create() -> None:
            document = source.value or ""
            if loaded and document == loaded["note"]:
                document = loaded["document"]
            try:
                # Off the event loop: a big document takes a while to read.
                request = await asyncio.to_thread(parse_workflow, document)
            except DocumentError as exc:
                problem.set_text(str(exc))
                return
            problem.set_text("")
            button.disable()
            try:
                answer = await api.call(api.workflows.CreateWorkflow, request)
            except UiError as exc:
                problem.set_text(exc.message)
                notify_error(exc)
                button.enable()
                return
            dialog.close()
            ui.notify(f"Created workflow {answer.workflow.name}", type="positive")
            ui.navigate.to(f"/ui/workflows/{answer.workflow.id}")

        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
            button = ui.button("Create", icon="add", on_click=create)
            button.props("data-testid=workflow-create-submit")
    dialog.open()
