"""Checks of client input; each failure names the field it is about."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping

from tq_actors import defaults
from tq_actors.errors import InvalidArgument
from tq_actors.models import ProjectSpec, TaskChanges, TaskSpec


def task_id(value: str, field: str = "id") -> str:
    """Return the canonical form of a UUID, or raise naming the field."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(field, "an id is required.")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, f"{value[:64]!r} is not a UUID.") from None
    return str(parsed)


def optional_id(value: str, field: str) -> str:
    """Like task_id, but an empty value means no id."""
    return task_id(value, field) if value else ""


def name(value: str, field: str = "name") -> str:
    """Return a stripped, non-empty name of bounded length."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument(field, "must not be empty.")
    if len(stripped) > defaults.MAX_NAME_CHARS:
        raise InvalidArgument(
            field, f"must be at most {defaults.MAX_NAME_CHARS} characters."
        )
    _no_nul(stripped, field)
    return stripped


def text(value: str, field: str) -> str:
    """Return free text of bounded size without NUL characters."""
    if len(value.encode("utf-8", "surrogatepass")) > defaults.MAX_TEXT_BYTES:
        raise InvalidArgument(
            field, f"must be at most {defaults.MAX_TEXT_BYTES} bytes."
        )
    _no_nul(value, field)
    return value


def working_dir(value: str) -> str:
    """Return an absolute directory path, or empty for the server's own."""
    text(value, "working_dir")
    if value and not value.startswith("/"):
        raise InvalidArgument("working_dir", "must be an absolute path.")
    return value


def env(value: Mapping[str, str]) -> dict[str, str]:
    """Return environment entries with valid names."""
    if len(value) > defaults.MAX_ENV_ENTRIES:
        raise InvalidArgument(
            "env", f"must have at most {defaults.MAX_ENV_ENTRIES} entries."
        )
    for key, item in value.items():
        if not key or "=" in key or "\0" in key:
            raise InvalidArgument("env", f"{key[:64]!r} is not a variable name.")
        text(item, f"env.{key}")
    return dict(value)


def tags(value: Iterable[str]) -> tuple[str, ...]:
    """Return non-empty, bounded tags without duplicates, in given order."""
    found = tuple(dict.fromkeys(tag.strip() for tag in value))
    if len(found) > defaults.MAX_TAGS:
        raise InvalidArgument("tags", f"at most {defaults.MAX_TAGS} tags are allowed.")
    for tag in found:
        if not tag or len(tag) > defaults.MAX_TAG_CHARS:
            raise InvalidArgument(
                "tags", f"each tag must have 1 to {defaults.MAX_TAG_CHARS} characters."
            )
        _no_nul(tag, "tags")
    return found


def non_negative(value: float, field: str, upper: float = 2**31 - 1) -> None:
    """Reject negative, non-finite and oversized numbers."""
    if not math.isfinite(value) or value < 0 or value > upper:
        bound = int(upper) if float(upper).is_integer() else upper
        raise InvalidArgument(field, f"must be a number from 0 to {bound}.")


def task_spec(spec: TaskSpec) -> TaskSpec:
    """Return the spec with normalized fields, or raise naming the bad one."""
    _unsupported(spec)
    non_negative(spec.timeout_seconds, "timeout_seconds", defaults.MAX_TIMEOUT_SECONDS)
    return TaskSpec(
        name=name(spec.name),
        command=text(spec.command, "command"),
        description=text(spec.description, "description"),
        project_id=optional_id(spec.project_id, "project_id"),
        priority=spec.priority,
        working_dir=working_dir(spec.working_dir),
        env=env(spec.env),
        timeout_seconds=spec.timeout_seconds,
        tags=tags(spec.tags),
        idempotency_key=text(spec.idempotency_key, "idempotency_key"),
    )


def task_changes(changes: TaskChanges) -> TaskChanges:
    """Return the changes with normalized fields, or raise naming the bad one."""
    if changes.timeout_seconds is not None:
        non_negative(
            changes.timeout_seconds, "timeout_seconds", defaults.MAX_TIMEOUT_SECONDS
        )
    if changes.max_retries:
        raise InvalidArgument("max_retries", _NOT_YET)
    if changes.retry_delay_seconds:
        raise InvalidArgument("retry_delay_seconds", _NOT_YET)
    return TaskChanges(
        name=None if changes.name is None else name(changes.name),
        command=None if changes.command is None else text(changes.command, "command"),
        description=None
        if changes.description is None
        else text(changes.description, "description"),
        priority=changes.priority,
        working_dir=None
        if changes.working_dir is None
        else working_dir(changes.working_dir),
        env=None if changes.env is None else env(changes.env),
        timeout_seconds=changes.timeout_seconds,
        tags=None if changes.tags is None else tags(changes.tags),
    )


def project_spec(spec: ProjectSpec) -> ProjectSpec:
    """Return the project spec normalized, or raise naming the bad field."""
    non_negative(spec.max_parallel, "max_parallel", upper=10_000)
    threshold = defaults.COVERAGE_THRESHOLD
    if spec.coverage_threshold is not None:
        non_negative(spec.coverage_threshold, "coverage_threshold", upper=100)
        threshold = spec.coverage_threshold
    reviews = defaults.REQUIRED_REVIEWS
    if spec.required_reviews is not None:
        non_negative(spec.required_reviews, "required_reviews", upper=100)
        reviews = spec.required_reviews
    return ProjectSpec(
        name=name(spec.name),
        description=text(spec.description, "description"),
        status=spec.status,
        parent_id=optional_id(spec.parent_id, "parent_id"),
        tags=tags(spec.tags),
        max_parallel=spec.max_parallel,
        coverage_threshold=threshold,
        required_reviews=reviews,
    )


# TODO: dependencies, retries, delayed start and the development workflow are
# refused until the scheduler implements them; accepting and ignoring them
# would run tasks the client asked to hold back.
_NOT_YET = "not supported by this server yet."


def _unsupported(spec: TaskSpec) -> None:
    if spec.depends_on:
        raise InvalidArgument("depends_on", _NOT_YET)
    if spec.max_retries:
        raise InvalidArgument("max_retries", _NOT_YET)
    if spec.retry_delay_seconds:
        raise InvalidArgument("retry_delay_seconds", _NOT_YET)
    if spec.start_after is not None:
        raise InvalidArgument("start_after", _NOT_YET)
    if spec.development_workflow:
        raise InvalidArgument("development_workflow", _NOT_YET)


def _no_nul(value: str, field: str) -> None:
    if "\0" in value:
        raise InvalidArgument(field, "must not contain NUL characters.")
