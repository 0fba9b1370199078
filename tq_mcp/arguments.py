"""Argument types of the tools, and how a refused argument is explained.

Arguments are strictly typed: a number must be a JSON number, a boolean
``true`` or ``false``, and a string a string. A string such as ``"10"`` or
``"true"`` given for a number or a boolean is refused naming the argument,
never read as one, in every tool alike (``COERCION_RULE``). Integers are
bounded to what the proto carries, so an out-of-range value is refused here
rather than failing further down. (Like every server built on the MCP SDK,
an array or object sent as JSON text is decoded before validation.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

INT32_MAX = 2**31 - 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
COERCION_RULE = (
    "Arguments are strictly typed: numbers and booleans must be JSON numbers "
    'and true/false; strings such as "10" or "true" are refused.'
)

Priority = Literal["low", "normal", "high", "critical"]
TaskStatus = Literal[
    "pending",
    "waiting_for_dependencies",
    "running",
    "completed",
    "failed",
    "cancelled",
]
ProjectStatus = Literal["planning", "active", "on_hold", "completed", "cancelled"]
Condition = Literal["success", "failure", "completion"]
ReviewType = Literal[
    "code_quality",
    "security",
    "performance",
    "documentation",
    "testing",
    "architecture",
]


def _no_surrogates(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it holds a lone surrogate)") from None
    return value


def _aware_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "must be an RFC 3339 time such as 2026-12-04T16:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-12-04T16:00:00Z")
    return moment.astimezone(UTC)


Text = Annotated[str, Strict(), AfterValidator(_no_surrogates)]
Int32 = Annotated[int, Strict(), Field(ge=0, le=INT32_MAX)]
Seconds = Annotated[float, Strict(), Field(ge=0, le=INT32_MAX, allow_inf_nan=False)]
Time = Annotated[
    Text,
    AfterValidator(_aware_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(description="RFC 3339 with an offset, e.g. 2026-12-04T16:00:00Z."),
]
TaskId = Annotated[Text, Field(description="Task id (UUID).")]
ProjectId = Annotated[Text, Field(description="Project id (UUID).")]
WorkflowId = Annotated[Text, Field(description="Workflow id (UUID).")]
Limit = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_LIMIT, description="Items per page, 1-200 (default 50)."),
]
Cursor = Annotated[
    Text | None,
    Field(description="next_cursor of the previous page; omit for the first."),
]
Env = dict[Text, Text]
Tags = list[Text]


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class DependencyIn(_Input):
    """Start only once task_id has ended as condition asks."""

    task_id: Text
    condition: Condition = "success"


def _bare_task_id(value: Any) -> Any:
    if isinstance(value, str):
        return {"task_id": value}
    if not isinstance(value, dict | DependencyIn):
        raise PydanticCustomError(
            "dependency_type",
            "must be a task id, or an object with task_id and condition",
        )
    return value


_CONDITION_SCHEMA = {
    "type": "string",
    "enum": ["success", "failure", "completion"],
    "default": "success",
}
Dependency = Annotated[
    DependencyIn,
    BeforeValidator(_bare_task_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "A task id (success edge)."},
                {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "condition": _CONDITION_SCHEMA,
                    },
                    "required": ["task_id"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class WorkflowDependencyIn(_Input):
    """An edge to a task of the same workflow (key) or outside it (task_id)."""

    key: Text | None = None
    task_id: Text | None = None
    condition: Condition = "success"

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.key is None) == (self.task_id is None):
            raise ValueError(
                "must name either a key of this workflow or a task_id, not "
                + ("both" if self.key is not None else "neither")
            )
        return self


def _bare_key(value: Any) -> Any:
    if isinstance(value, str):
        return {"key": value}
    if not isinstance(value, dict | WorkflowDependencyIn):
        raise PydanticCustomError(
            "dependency_type",
            "must be a key, or an object with key or task_id and a condition",
        )
    return value


WorkflowDependency = Annotated[
    WorkflowDependencyIn,
    BeforeValidator(_bare_key),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "A key of this workflow."},
                {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "task_id": {"type": "string"},
                        "condition": _CONDITION_SCHEMA,
                    },
                    "additionalProperties": False,
                    "description": "Exactly one of key or task_id.",
                },
            ]
        }
    ),
]


class WorkflowTaskIn(_Input):
    """One task of a workflow: a key, its task fields and its edges."""

    key: Annotated[Text, Field(min_length=1, description="Unique in the workflow.")]
    name: Text | None = Field(default=None, description="Default: the key.")
    command: Text = Field(default="", description="Shell command; empty: tracking.")
    description: Text = ""
    project_id: Text | None = Field(
        default=None, description="Default: the workflow's project."
    )
    priority: Priority = "normal"
    depends_on: list[WorkflowDependency] = Field(
        default_factory=list,
        description='Keys ("a"), {key, condition} or {task_id, condition}.',
    )
    working_dir: Text | None = None
    env: Env = Field(default_factory=dict)
    timeout_seconds: Int32 = 0
    max_retries: Int32 = 0
    retry_delay_seconds: Seconds = 0.0
    start_after: Time | None = None
    tags: Tags = Field(default_factory=list)
    idempotency_key: Text | None = None
    development_workflow: Annotated[bool, Strict()] = False


# What the *_type errors of pydantic expected, in words.
_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}
_FROM_STRING = ("int_type", "float_type", "bool_type")


def problems_of(error: ValidationError) -> list[str]:
    """Return one ``argument: problem`` sentence per refused argument path."""
    problems: list[str] = []
    seen: set[str] = set()
    for item in error.errors(include_url=False):
        path = _path(item["loc"])
        if path in seen:
            continue
        seen.add(path)
        problems.append(f"{path}: {_phrase(item)}")
    return problems


def _path(location: tuple[int | str, ...]) -> str:
    name = ""
    for part in location:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part.isidentifier():
            name += f".{part}" if name else part
        # Other parts name a union member or a validator, not a field.
    return name or "arguments"


def _phrase(item: Any) -> str:
    kind: str = item["type"]
    given = item.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not an accepted field"
    if kind in _EXPECTED:
        phrase = f"must be {_EXPECTED[kind]}, not {_json_kind(given)}"
        if kind in _FROM_STRING and isinstance(given, str):
            phrase += " (numbers and booleans are never read from strings)"
        return phrase
    message = str(item.get("msg", "is invalid")).removeprefix("Value error, ")
    message = message.replace("Input should be", "must be")
    return message.rstrip(".")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in _JSON_KINDS:
        if isinstance(value, kind):
            return name
    return type(value).__name__


# bool before numbers: True is an int to Python, not to JSON.
_JSON_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    ((list, tuple), "an array"),
    (dict, "an object"),
)
