"""Turn what people type into request messages; errors name the field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from nicegui.elements.input_chips import InputChips
from nicegui.events import GenericEventArguments

from tq_grpc._gen import tasks_pb2
from tq_ui import text

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The browser clears what was typed and sends it; the server adds the chip.
_SEND_ENTERED_TAG = "(typed, done) => { done(); emit(typed); }"
# Quasar drops text still typed when focus leaves the field: send it first.
_SEND_LEFT_TEXT = (
    "(e) => { const typed = e.target.value;"
    " if (typeof typed === 'string' && typed.trim()) emit(typed); }"
)


class FormError(ValueError):
    """A field holds something the form cannot send; the message names it."""


@dataclass
class TaskForm:
    """The create-task dialog's fields, as typed."""

    name: str = ""
    command: str = ""
    description: str = ""
    project_id: str = ""
    priority: str = "normal"
    depends_on: str = ""
    working_dir: str = ""
    env: str = ""
    timeout_seconds: float | None = None
    max_retries: float | None = None
    retry_delay_seconds: float | None = None
    start_after: str = ""
    tags: list[str] = field(default_factory=list)
    idempotency_key: str = ""
    development_workflow: bool = False

    def to_spec(self) -> tasks_pb2.TaskSpec:
        """Return the TaskSpec; raise FormError naming a bad field."""
        if not self.name.strip():
            raise FormError("Name: a task needs a name.")
        spec = tasks_pb2.TaskSpec(
            name=self.name.strip(),
            command=self.command,
            description=self.description,
            project_id=self.project_id or "",
            priority=text.priority_value(self.priority or "normal"),
            working_dir=self.working_dir.strip(),
            timeout_seconds=whole(self.timeout_seconds, "Timeout"),
            max_retries=whole(self.max_retries, "Max retries"),
            retry_delay_seconds=float(self.retry_delay_seconds or 0),
            tags=[t.strip() for t in self.tags if t.strip()],
            idempotency_key=self.idempotency_key.strip(),
            development_workflow=self.development_workflow,
        )
        if spec.retry_delay_seconds < 0:
            raise FormError("Retry delay: give 0 or more seconds.")
        spec.env.update(parse_env(self.env))
        spec.depends_on.extend(parse_dependencies(self.depends_on))
        if self.start_after.strip():
            spec.start_after.CopyFrom(parse_time(self.start_after))
        return spec


class TagsInput(InputChips):
    """A chips field that keeps every tag typed, however slow the server is.

    NiceGUI 3.18's ui.input_chips lets the browser compute each new list from
    the last one the server sent back, and shows a chip only once it is back:
    a tag Entered before that answer arrived (right after a dialog opened, on
    a busy machine) replaced the tag before it. Here the browser sends only
    what changed (a tag Entered, text left typed when focus moves on, a chip
    removed) and the server edits its list, the one a form reads.
    """

    def __init__(self, label: str, *, value: Iterable[str] = ()) -> None:
        super().__init__(label, value=list(value), new_value_mode="add-unique")
        self.on("new-value", self._add, js_handler=_SEND_ENTERED_TAG)
        self.on("focusout", self._add, js_handler=_SEND_LEFT_TEXT)
        self.on("remove", self._remove)

    def _event_args_to_value(self, e: GenericEventArguments) -> list[str]:
        # The browser's whole list may lack tags still on their way back; its
        # changes arrive as the events handled below.
        return list(self.value)

    def _add(self, e: GenericEventArguments) -> None:
        tag = str(e.args or "").strip()
        if tag and tag not in self.value:
            self.value = [*self.value, tag]

    def _remove(self, e: GenericEventArguments) -> None:
        removed = e.args.get("value") if isinstance(e.args, dict) else None
        if removed in self.value:
            self.value = [tag for tag in self.value if tag != removed]


def whole(value: float | None, name: str) -> int:
    """Return a non-negative whole number; None is 0."""
    if value is None:
        return 0
    if value < 0 or value != int(value):
        raise FormError(f"{name}: give a whole number, 0 or more.")
    return int(value)


def parse_env(source: str) -> dict[str, str]:
    """Parse ``NAME=value`` lines; blank lines and ``#`` comments are skipped."""
    env: dict[str, str] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        if not sep or not _ENV_NAME.fullmatch(name.strip()):
            raise FormError(f"Environment, line {number}: write NAME=value.")
        env[name.strip()] = value
    return env


def parse_dependencies(source: str) -> list[tasks_pb2.Dependency]:
    """Parse one ``<task id> [success|failure|completion]`` per line or comma."""
    dependencies = []
    for number, item in enumerate(_items(source), start=1):
        parts = item.split()
        if len(parts) > 2:
            raise FormError(
                f"Depends on, item {number}: write a task id, then optionally "
                "success, failure or completion."
            )
        condition = parts[1].lower() if len(parts) == 2 else "success"
        if condition not in text.CONDITIONS:
            raise FormError(
                f"Depends on, item {number}: the condition is success, failure "
                f"or completion, not {parts[1]!r}."
            )
        dependencies.append(
            tasks_pb2.Dependency(
                task_id=parts[0], condition=text.condition_value(condition)
            )
        )
    return dependencies


def _items(source: str) -> Iterable[str]:
    for line in source.replace(",", "\n").splitlines():
        if line.strip():
            yield line.strip()


def parse_time(source: str) -> Timestamp:
    """Parse an RFC 3339 time or a ``datetime-local`` value (taken as UTC)."""
    value = source.strip().replace(" ", "T")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FormError(
            "Start after: write a time like 2030-01-31T12:00 (UTC) or "
            "2030-01-31T12:00:00+02:00."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp
