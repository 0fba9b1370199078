"""Rendering of SDK records as tables, JSON and YAML; no server involved."""

from __future__ import annotations

import io
import json

import yaml

from taskqueue.cli import output
from taskqueue.models import Dependency, Stats
from tests.cli.fakes import TASK_ID, make_task


def render(function: object, *args: object, **kwargs: object) -> str:
    buffer = io.StringIO()
    function(*args, file=buffer, **kwargs)  # type: ignore[operator]
    return buffer.getvalue()


def test_plain_table_aligns_columns_without_trailing_blanks() -> None:
    text = output.plain_table([["ID", "NAME"], ["a", "long name"], ["bbbb", "x"]])

    assert text == "ID    NAME\na     long name\nbbbb  x\n"


def test_records_off_a_terminal_are_plain_columns_with_a_header() -> None:
    tasks = [make_task(), make_task(id="other", status="failed", exit_code=2)]

    text = render(
        output.emit_records, tasks, output.TASK_COLUMNS, "table", terminal=False
    )

    lines = text.splitlines()
    assert lines[0].split() == [
        "ID",
        "NAME",
        "STATUS",
        "PRIORITY",
        "PROJECT_ID",
        "EXIT_CODE",
    ]
    assert lines[1].split() == [TASK_ID, "build", "pending", "normal"]
    assert lines[2].split() == ["other", "build", "failed", "normal", "2"]
    assert "\x1b[" not in text


def test_a_record_table_starts_with_the_full_id() -> None:
    text = render(output.emit_record, make_task(), "table", terminal=False)

    assert text.splitlines()[0].split() == ["id", TASK_ID]


def test_a_terminal_table_keeps_the_full_id() -> None:
    text = render(
        output.emit_records, [make_task()], output.TASK_COLUMNS, "table", terminal=True
    )

    assert TASK_ID in text


def test_json_carries_every_field_with_iso_timestamps() -> None:
    task = make_task(depends_on=(Dependency("d1", "failure"),), tags=("a",))

    data = json.loads(render(output.emit_record, task, "json"))

    assert data["id"] == TASK_ID
    assert data["created_at"] == "2026-01-02T03:04:05+00:00"
    assert data["depends_on"] == [{"task_id": "d1", "condition": "failure"}]
    assert data["tags"] == ["a"]
    assert data["exit_code"] is None


def test_yaml_lists_records_in_order() -> None:
    tasks = [make_task(), make_task(id="second")]

    data = yaml.safe_load(
        render(output.emit_records, tasks, output.TASK_COLUMNS, "yaml")
    )

    assert [item["id"] for item in data] == [TASK_ID, "second"]
    assert data[0]["status"] == "pending"


def test_an_empty_list_is_an_empty_json_array() -> None:
    text = render(output.emit_records, [], output.TASK_COLUMNS, "json")

    assert json.loads(text) == []


def test_cells_are_one_line_and_readable() -> None:
    assert output.cell(None) == ""
    assert output.cell(True) == "yes"
    assert output.cell(0.5) == "0.5"
    assert output.cell("two\nlines") == "two\\nlines"
    assert output.cell({"A": "1", "B": "2"}) == "A=1, B=2"
    assert output.cell(("x", "y")) == "x, y"
    assert output.cell(Dependency("d1")) == "d1 (success)"


def test_a_message_is_a_sentence_in_table_format_and_data_otherwise() -> None:
    data = {"id": "t1", "deleted": True}

    assert render(output.emit_message, "Deleted task t1.", data, "table") == (
        "Deleted task t1.\n"
    )
    assert json.loads(render(output.emit_message, "ignored", data, "json")) == data


def test_stats_rows_name_every_status_even_at_zero() -> None:
    stats = Stats(
        tasks_by_status={"pending": 2, "running": 1},
        total_tasks=3,
        total_projects=1,
        queue_depth=2,
        running=1,
        slots=4,
        uptime_seconds=3725.0,
        version="0.1.0",
    )

    pairs = dict(output.stats_pairs(stats))

    assert pairs["uptime"] == "1h 02m 05s"
    assert pairs["  pending"] == 2
    assert pairs["  cancelled"] == 0
    assert pairs["queue depth"] == 2
    assert dict(output.metric_pairs(stats))["tasks_failed"] == 0


def test_durations_read_from_seconds_to_days() -> None:
    assert output.format_duration(5.9) == "5s"
    assert output.format_duration(65) == "1m 05s"
    assert output.format_duration(90061) == "1d 01h 01m 01s"
