"""Checks of client input; each failure names the field it is about."""

from __future__ import annotations

import graphlib
import math
import uuid
from collections.abc import Iterable, Mapping

from tq_actors import defaults
from tq_actors.devflow import model_identity
from tq_actors.errors import InvalidArgument
from tq_actors.graph import cycle_text
from tq_actors.models import (
    Condition,
    Dependency,
    ProjectSpec,
    Review,
    TaskChanges,
    TaskSpec,
    WorkflowSpec,
    WorkflowTaskSpec,
)


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
    total = 0
    for key, item in value.items():
        if not key or "=" in key or "\0" in key or len(key) > defaults.MAX_NAME_CHARS:
            raise InvalidArgument("env", f"{key[:64]!r} is not a variable name.")
        text(item, f"env.{key}")
        total += len(key) + len(item.encode("utf-8", "surrogatepass")) + 2
    if total > defaults.MAX_ENV_BYTES:
        raise InvalidArgument(
            "env", f"must be at most {defaults.MAX_ENV_BYTES} bytes in total."
        )
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


def depends_on(value: Iterable[Dependency]) -> tuple[Dependency, ...]:
    """Return dependencies with canonical ids; a repeated id keeps its first edge."""
    found: dict[str, Dependency] = {}
    for index, dependency in enumerate(value):
        dep_id = task_id(dependency.task_id, f"depends_on[{index}].task_id")
        earlier = found.setdefault(dep_id, Dependency(dep_id, dependency.condition))
        if earlier.condition != dependency.condition:
            raise InvalidArgument(
                f"depends_on[{index}].condition",
                f"task {dep_id} is already a dependency with another condition.",
            )
    if len(found) > defaults.MAX_DEPENDENCIES:
        raise InvalidArgument(
            "depends_on", f"at most {defaults.MAX_DEPENDENCIES} dependencies."
        )
    return tuple(found.values())


def start_after(value: float | None) -> float | None:
    """Return a delayed start time (seconds since the epoch), or None."""
    if value is None:
        return None
    # Python's datetime spans the years 1 to 9999; earlier means "now".
    if not math.isfinite(value) or not -62135596800 <= value < 253402300800:
        raise InvalidArgument(
            "start_after", "must be a time between the years 1 and 9999."
        )
    return value


def retry_policy(max_retries: int | None, delay: float | None) -> None:
    """Check the retry count and the first retry's delay."""
    if max_retries is not None:
        non_negative(max_retries, "max_retries", defaults.MAX_RETRIES)
    if delay is not None:
        non_negative(delay, "retry_delay_seconds", defaults.MAX_RETRY_DELAY_SECONDS)


def task_spec(spec: TaskSpec) -> TaskSpec:
    """Return the spec with normalized fields, or raise naming the bad one."""
    non_negative(spec.timeout_seconds, "timeout_seconds", defaults.MAX_TIMEOUT_SECONDS)
    retry_policy(spec.max_retries, spec.retry_delay_seconds)
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
        depends_on=depends_on(spec.depends_on),
        max_retries=spec.max_retries,
        retry_delay_seconds=spec.retry_delay_seconds,
        start_after=start_after(spec.start_after),
        development_workflow=spec.development_workflow,
    )


def documentation_path(value: str) -> str:
    """Return a stripped, non-empty document path of bounded length."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument("path", "must not be empty.")
    if len(stripped) > 4096:
        raise InvalidArgument("path", "must be at most 4096 characters.")
    _no_nul(stripped, "path")
    return stripped


def review(value: Review) -> Review:
    """Return a review with checked fields, or raise naming the bad one."""
    model = value.model_name.strip()
    if not model_identity(model):
        raise InvalidArgument("model_name", "must not be empty.")
    if len(model) > defaults.MAX_NAME_CHARS:
        raise InvalidArgument(
            "model_name", f"must be at most {defaults.MAX_NAME_CHARS} characters."
        )
    _no_nul(model, "model_name")
    if not math.isfinite(value.score) or not 0 <= value.score <= 1:
        raise InvalidArgument("score", "must be a number from 0 to 1.")
    if len(value.suggestions) > defaults.MAX_TAGS:
        raise InvalidArgument(
            "suggestions", f"at most {defaults.MAX_TAGS} suggestions are allowed."
        )
    for index, suggestion in enumerate(value.suggestions):
        text(suggestion, f"suggestions[{index}]")
    return Review(
        model_name=model,
        review_type=value.review_type,
        content=text(value.content, "content"),
        score=value.score,
        approved=value.approved,
        suggestions=tuple(value.suggestions),
        round=0,
        created_at=0.0,
    )


def workflow_spec(spec: WorkflowSpec) -> tuple[WorkflowSpec, list[int]]:
    """Return the normalized workflow and its tasks' indexes in a valid run order.

    Keys must be unique and every edge must name a key of the workflow; the
    edges must form a DAG, else the error names a cycle.
    """
    if not spec.tasks:
        raise InvalidArgument("tasks", "at least one task is required.")
    if len(spec.tasks) > defaults.MAX_BATCH_TASKS:
        raise InvalidArgument(
            "tasks", f"at most {defaults.MAX_BATCH_TASKS} tasks per workflow."
        )
    project = optional_id(spec.project_id, "project_id")
    index_of: dict[str, int] = {}
    for index, item in enumerate(spec.tasks):
        key = item.key.strip()
        if not key or len(key) > defaults.MAX_KEY_CHARS:
            raise InvalidArgument(
                f"tasks[{index}].key",
                f"must have 1 to {defaults.MAX_KEY_CHARS} characters.",
            )
        _no_nul(key, f"tasks[{index}].key")
        if key in index_of:
            raise InvalidArgument(
                f"tasks[{index}].key",
                f"{key!r} is already the key of tasks[{index_of[key]}].",
            )
        index_of[key] = index
    checked: list[WorkflowTaskSpec] = []
    graph: dict[str, list[str]] = {}
    for index, item in enumerate(spec.tasks):
        key = item.key.strip()
        given = item.spec
        try:
            normal = task_spec(
                TaskSpec(
                    **{
                        **_spec_fields(given),
                        "name": given.name or key,
                        "project_id": given.project_id or project,
                    }
                )
            )
        except InvalidArgument as exc:
            raise exc.within(f"tasks[{index}]") from None
        after: dict[str, Condition] = {}
        for position, (given_key, condition) in enumerate(item.after):
            target = given_key.strip()
            if target not in index_of:
                raise InvalidArgument(
                    f"tasks[{index}].depends_on[{position}].key",
                    f"{target[:64]!r} is not the key of a task in this workflow.",
                )
            if after.setdefault(target, condition) != condition:
                raise InvalidArgument(
                    f"tasks[{index}].depends_on[{position}].condition",
                    f"{target[:64]!r} is already a dependency with another condition.",
                )
        if len(after) + len(normal.depends_on) > defaults.MAX_DEPENDENCIES:
            raise InvalidArgument(
                f"tasks[{index}].depends_on",
                f"at most {defaults.MAX_DEPENDENCIES} dependencies.",
            )
        graph[key] = list(after)
        checked.append(
            WorkflowTaskSpec(key=key, spec=normal, after=tuple(after.items()))
        )
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = [key[:64] for key in reversed(exc.args[1])]
        raise InvalidArgument(
            "tasks",
            f"depends_on forms a cycle of {len(cycle) - 1} task(s): "
            + cycle_text(cycle)
            + " (each depends on the next).",
        ) from None
    normal_spec = WorkflowSpec(
        name=name(spec.name),
        description=text(spec.description, "description"),
        project_id=project,
        tasks=tuple(checked),
    )
    return normal_spec, [index_of[key] for key in order]


def _spec_fields(spec: TaskSpec) -> dict[str, object]:
    return {f: getattr(spec, f) for f in TaskSpec.__slots__}  # type: ignore[attr-defined]


def task_changes(changes: TaskChanges) -> TaskChanges:
    """Return the changes with normalized fields, or raise naming the bad one."""
    if changes.timeout_seconds is not None:
        non_negative(
            changes.timeout_seconds, "timeout_seconds", defaults.MAX_TIMEOUT_SECONDS
        )
    retry_policy(changes.max_retries, changes.retry_delay_seconds)
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
        max_retries=changes.max_retries,
        retry_delay_seconds=changes.retry_delay_seconds,
        depends_on=None
        if changes.depends_on is None
        else depends_on(changes.depends_on),
        start_after=start_after(changes.start_after),
        clear_start_after=changes.clear_start_after,
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


def _no_nul(value: str, field: str) -> None:
    if "\0" in value:
        raise InvalidArgument(field, "must not contain NUL characters.")
