"""Turn what people type into request messages; errors name the field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from tq_grpc._gen import tasks_pb2
from tq_ui import text

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
