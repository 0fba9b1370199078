"""The task Edit dialog's request: only what changed, bad values named."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tq_grpc._gen import common_pb2, tasks_pb2
from tq_ui.forms import FormError
from tq_ui.pages.task_edit import current_values, update_request

TASK = tasks_pb2.Task(
    id="7d9e6a4e-0000-4000-8000-000000000001",
    name="t",
    command="true",
    priority=common_pb2.PRIORITY_NORMAL,
    tags=["a"],
    env={"KEEP": "1"},
)


def edited(**changes: Any) -> tasks_pb2.UpdateTaskRequest:
    before = current_values(TASK)
    return update_request(TASK.id, before, {**before, **changes})


def test_only_changed_fields_are_sent() -> None:
    request = edited(name="renamed", tags="b, c")

    assert request.name == "renamed"
    assert list(request.tags) == ["b", "c"] and request.update_tags
    assert not request.HasField("command")
    assert not request.update_env and not request.update_depends_on
    assert not request.HasField("timeout_seconds")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"timeout_seconds": 99_999_999_999}, "Timeout"),
        ({"timeout_seconds": math.inf}, "Timeout"),
        ({"max_retries": 3e9}, "Max retries"),
        ({"retry_delay_seconds": math.inf}, "Retry delay"),
        ({"start_after": "0001-01-01T00:00:00+01:00"}, "Start after"),
        ({"start_after": "next tuesday"}, "Start after"),
        ({"name": "  "}, "Name"),
    ],
)
def test_a_value_the_wire_cannot_carry_is_named(
    changes: dict[str, Any], named: str
) -> None:
    with pytest.raises(FormError) as caught:
        edited(**changes)

    assert str(caught.value).startswith(named)
