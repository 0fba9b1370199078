"""The development workflow's calls from the task page: what `tasks dev` does.

Advance, set the technical documentation, report coverage, add a review, fail
and reopen. Each is one DevelopmentService call; a refused gate shows the
server's reason (it names the unmet gate) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from tq_grpc._gen import development_pb2
from tq_ui import text
from tq_ui.backend import Api, UiError
from tq_ui.pages.shell import notify_error

Done = Callable[[], Awaitable[None]]
REVIEW_TYPES = [
    text.review_type_name(value)
    for value in development_pb2.ReviewType.values()
    if value != development_pb2.REVIEW_TYPE_UNSPECIFIED
]
ENDED_PHASES = ("completed", "failed")


class DevelopmentActions:
    """The buttons that move a task's development workflow on.

    They are drawn once and follow the task's phase: a redraw never replaces
    a button someone is about to click.
    """

    def __init__(self, api: Api, task_id: str, done: Done) -> None:
        self.phase = development_pb2.DEVELOPMENT_PHASE_UNSPECIFIED
        calls = DevelopmentCalls(api, task_id, done)
        with ui.row().classes("gap-2").props("data-testid=development-actions"):
            self.reopen = ui.button("Reopen", icon="restart_alt")
            self.reopen.on_click(calls.reopen)
            self.reopen.props("outline data-testid=dev-reopen")
            self.advance = ui.button("Advance", icon="skip_next")
            self.advance.on_click(lambda: calls.advance(self.phase))
            self.advance.props("data-testid=dev-advance")
            self.others = [
                ui.button("Documentation", icon="description").on_click(
                    calls.ask_documentation
                ),
                ui.button("Coverage", icon="percent").on_click(calls.ask_coverage),
                ui.button("Review", icon="rate_review").on_click(calls.ask_review),
            ]
            for button, name in zip(
                self.others, ("documentation", "coverage", "review"), strict=True
            ):
                button.props(f"outline data-testid=dev-{name}")
            fail = ui.button("Fail", icon="block", color="negative")
            fail.on_click(calls.ask_fail)
            fail.props("flat data-testid=dev-fail")
            self.others.append(fail)

    def show(self, development: development_pb2.DevelopmentWorkflow) -> None:
        """Offer what the phase allows: reopen once ended, the rest before."""
        self.phase = development.phase
        ended = text.phase_name(development.phase) in ENDED_PHASES
        self.reopen.set_visibility(ended)
        for button in (self.advance, *self.others):
            button.set_visibility(not ended)


class DevelopmentCalls:
    """One task's development calls, each followed by done() on success."""

    def __init__(self, api: Api, task_id: str, done: Done) -> None:
        self.api = api
        self.task_id = task_id
        self.done = done

    async def _call(self, method: Any, request: Any, success: str) -> bool:
        try:
            await self.api.call(method, request)
        except UiError as exc:
            notify_error(exc)
            return False
        ui.notify(success, type="positive")
        await self.done()
        return True

    async def advance(self, from_phase: int) -> None:
        """Advance from the phase shown, so a double click advances once."""
        await self._call(
            self.api.development.AdvancePhase,
            development_pb2.AdvancePhaseRequest(
                task_id=self.task_id, from_phase=from_phase
            ),
            "Advanced to the next phase",
        )

    async def reopen(self) -> None:
        """Send the task back to implementation in a new round."""
        await self._call(
            self.api.development.ReopenDevelopment,
            development_pb2.ReopenDevelopmentRequest(task_id=self.task_id),
            "Reopened: back to implementation",
        )

    def ask_documentation(self) -> None:
        """Ask for the technical documentation's path and set it."""

        def request(values: dict[str, Any]) -> Any:
            return development_pb2.SetTechnicalDocumentationRequest(
                task_id=self.task_id, path=values["path"] or ""
            )

        self._dialog(
            "Technical documentation",
            [("path", ui.input, {"label": "Path", "placeholder": "docs/design.md"})],
            self.api.development.SetTechnicalDocumentation,
            request,
            "Documentation set",
        )

    def ask_coverage(self) -> None:
        """Ask for the test coverage and report it."""

        def request(values: dict[str, Any]) -> Any:
            return development_pb2.SetTestCoverageRequest(
                task_id=self.task_id,
                coverage_percentage=float(values["coverage"] or 0),
            )

        self._dialog(
            "Test coverage",
            [
                (
                    "coverage",
                    ui.number,
                    {"label": "Coverage (%)", "min": 0, "max": 100, "value": None},
                )
            ],
            self.api.development.SetTestCoverage,
            request,
            "Coverage reported",
        )

    def ask_review(self) -> None:
        """Ask for one model's review and add it."""

        def request(values: dict[str, Any]) -> Any:
            suggestions = [
                line.strip()
                for line in (values["suggestions"] or "").splitlines()
                if line.strip()
            ]
            return development_pb2.AddReviewRequest(
                task_id=self.task_id,
                model_name=values["model"] or "",
                review_type=development_pb2.ReviewType.Value(
                    "REVIEW_TYPE_" + values["type"].upper()
                ),
                content=values["content"] or "",
                score=float(values["score"] if values["score"] is not None else 0),
                approved=bool(values["approved"]),
                suggestions=suggestions,
            )

        self._dialog(
            "Review",
            [
                ("model", ui.input, {"label": "Model", "placeholder": "model name"}),
                (
                    "type",
                    ui.select,
                    {
                        "label": "Review type",
                        "options": {t: text.label(t) for t in REVIEW_TYPES},
                        "value": REVIEW_TYPES[0],
                    },
                ),
                (
                    "score",
                    ui.number,
                    {"label": "Score (0-1)", "min": 0, "max": 1, "value": 1.0},
                ),
                ("approved", ui.checkbox, {"text": "Approve", "value": True}),
                ("content", ui.textarea, {"label": "Review"}),
                ("suggestions", ui.textarea, {"label": "Suggestions, one a line"}),
            ],
            self.api.development.AddReview,
            request,
            "Review added",
        )

    def ask_fail(self) -> None:
        """Ask for a reason and fail the workflow."""

        def request(values: dict[str, Any]) -> Any:
            return development_pb2.FailDevelopmentRequest(
                task_id=self.task_id, reason=values["reason"] or ""
            )

        self._dialog(
            "Fail the development workflow",
            [("reason", ui.input, {"label": "Reason"})],
            self.api.development.FailDevelopment,
            request,
            "Development workflow failed",
        )

    def _dialog(
        self,
        title: str,
        fields: list[tuple[str, Any, dict[str, Any]]],
        method: Any,
        request: Callable[[dict[str, Any]], Any],
        success: str,
    ) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
            ui.label(title).classes("text-h6")
            inputs = {}
            for name, make, options in fields:
                element = make(**options)
                if make is not ui.checkbox:
                    element.classes("w-full")
                element.props(f"data-testid=dev-field-{name}")
                inputs[name] = element

            async def submit() -> None:
                values = {name: element.value for name, element in inputs.items()}
                button.disable()
                if await self._call(method, request(values), success):
                    dialog.close()
                else:
                    button.enable()

            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat")
                button = ui.button("Save", on_click=submit).props(
                    "data-testid=dev-submit"
                )
        dialog.open()
