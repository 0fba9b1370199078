"""Render SDK records as a table, JSON or YAML on standard output.

Tables are drawn with rich on a terminal and printed as plain aligned
columns otherwise, so that ``grep`` and ``awk`` read them. JSON and YAML
carry every field, timestamps in ISO 8601 with their offset.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

import yaml
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from taskqueue.models import (
    TASK_STATUSES,
    Dependency,
    DevelopmentWorkflow,
    Stats,
    Task,
    Workflow,
    WorkflowProgress,
)

TASK_COLUMNS = ("id", "name", "status", "priority", "project_id", "exit_code")
PROJECT_COLUMNS = ("id", "name", "status", "max_parallel", "description")
EVENT_COLUMNS = ("seq", "at", "from_status", "to_status", "reason", "exit_code")
WORKFLOW_COLUMNS = ("id", "name", "status", "progress", "project_id", "created_at")

# Rows of a record table left out while empty; JSON and YAML keep them.
HIDDEN_WHEN_EMPTY: dict[type, tuple[str, ...]] = {
    Task: ("workflow_id", "blocked_by", "retry_at", "development"),
}

_STYLES = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "active": "green",
    "on_hold": "yellow",
    "yes": "green",
}

_BOXES = {
    "default": box.SIMPLE_HEAD,
    "rounded": box.ROUNDED,
    "ascii": box.ASCII,
}


@dataclasses.dataclass
class Style:
    """How tables look on a terminal; piped output is always plain."""

    colors: bool = True
    # One of settings.TABLE_STYLES; "plain" draws aligned columns everywhere.
    table_style: str = "default"


STYLE = Style()


def use_style(*, colors: bool = True, table_style: str = "default") -> None:
    """Set how tables look for the rest of this command (the CLI's settings)."""
    STYLE.colors = colors
    STYLE.table_style = table_style


def to_plain(value: Any) -> Any:
    """Return ``value`` as JSON-ready dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return to_plain(value._asdict())
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# Control characters would move the cursor or recolour the user's terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


@functools.singledispatch
def cell(value: object) -> str:
    """Return the text of one table cell, on one line, control characters escaped."""
    return str(value).translate(_CONTROLS)


@cell.register(type(None))
def _none_cell(_value: None) -> str:
    return ""


@cell.register
def _bool_cell(value: bool) -> str:
    return "yes" if value else "no"


@cell.register
def _float_cell(value: float) -> str:
    return f"{value:g}"


@cell.register
def _time_cell(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@cell.register
def _dependency_cell(value: Dependency) -> str:
    return f"{value.task_id} ({value.condition})"


@cell.register
def _progress_cell(value: WorkflowProgress) -> str:
    return progress_text(value)


@cell.register
def _development_cell(value: DevelopmentWorkflow) -> str:
    if value.next_call:
        return f"{value.phase} (next: {value.next_call})"
    return value.phase


@cell.register
def _mapping_cell(value: Mapping) -> str:  # type: ignore[type-arg]
    return ", ".join(f"{key}={cell(item)}" for key, item in value.items())


@cell.register(list)
@cell.register(tuple)
def _sequence_cell(value: Sequence[Any]) -> str:
    return ", ".join(cell(item) for item in value)


def emit_records(
    records: Sequence[Any],
    columns: Sequence[str],
    output_format: str,
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print many records: a row each, or a JSON/YAML list of every field."""
    if output_format != "table":
        _emit_data([to_plain(record) for record in records], output_format, file)
        return
    rows = [[cell(getattr(record, name)) for name in columns] for record in records]
    _emit_table(list(columns), rows, file=file, terminal=terminal, header=True)


def emit_record(
    record: Any,
    output_format: str,
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print one record: a field/value table, or a JSON/YAML mapping."""
    plain = to_plain(record)
    if output_format != "table":
        _emit_data(plain, output_format, file)
        return
    _emit_table(
        ["field", "value"],
        _record_rows(record),
        file=file,
        terminal=terminal,
        header=False,
    )


def _record_rows(record: Any) -> list[list[str]]:
    hidden = HIDDEN_WHEN_EMPTY.get(type(record), ())
    rows = []
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name in hidden and value in (None, ""):
            continue
        rows.append([f.name, cell(value)])
    return rows


def emit_workflow(
    workflow: Workflow,
    output_format: str,
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print a workflow: its fields, a row per task and a row per edge."""
    if output_format != "table":
        _emit_data(to_plain(workflow), output_format, file)
        return
    out = file or sys.stdout
    fields = [
        [name, cell(getattr(workflow, name))]
        for name in (
            "id",
            "name",
            "status",
            "progress",
            "project_id",
            "description",
            "created_at",
        )
    ]
    _emit_table(["field", "value"], fields, file=out, terminal=terminal, header=False)
    if workflow.tasks:
        rows = [
            [
                key,
                task.id,
                task.name,
                task.status,
                cell(task.exit_code),
                cell(task.blocked_by or task.status_reason),
            ]
            for key, task in workflow.tasks
        ]
        print(file=out)
        _emit_table(
            ["key", "task_id", "name", "status", "exit_code", "reason"],
            rows,
            file=out,
            terminal=terminal,
            header=True,
        )
    if workflow.edges:
        edges = [
            [
                edge.source_key or edge.source_task_id,
                edge.target_key or edge.target_task_id,
                edge.condition,
            ]
            for edge in workflow.edges
        ]
        print(file=out)
        _emit_table(
            ["from", "to", "condition"],
            edges,
            file=out,
            terminal=terminal,
            header=True,
        )


def emit_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print rows of cell texts under a header."""
    _emit_table(
        list(headers),
        [list(row) for row in rows],
        file=file,
        terminal=terminal,
        header=True,
    )


def progress_text(progress: WorkflowProgress) -> str:
    """Return e.g. "3/5 ended (2 completed, 1 failed), 1 running, 1 waiting"."""
    text = f"{progress.ended}/{progress.total} ended"
    ended = [
        f"{count} {name}"
        for name, count in (
            ("completed", progress.completed),
            ("failed", progress.failed),
            ("cancelled", progress.cancelled),
        )
        if count
    ]
    if ended:
        text += " (" + ", ".join(ended) + ")"
    live = [
        f"{count} {name}"
        for name, count in (
            ("running", progress.running),
            ("pending", progress.pending),
            ("waiting", progress.waiting_for_dependencies),
        )
        if count
    ]
    return ", ".join([text, *live])


def emit_pairs(
    pairs: Sequence[tuple[str, Any]],
    data: Any,
    output_format: str,
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print label/value rows as a table, or ``data`` as JSON/YAML."""
    if output_format != "table":
        _emit_data(to_plain(data), output_format, file)
        return
    rows = [[label, cell(value)] for label, value in pairs]
    _emit_table(["field", "value"], rows, file=file, terminal=terminal, header=False)


def emit_message(
    text: str,
    data: Mapping[str, Any],
    output_format: str,
    *,
    file: TextIO | None = None,
) -> None:
    """Print a sentence in table format, or ``data`` as JSON/YAML."""
    if output_format != "table":
        _emit_data(to_plain(data), output_format, file)
        return
    print(text, file=file or sys.stdout)


def stats_pairs(stats: Stats) -> list[tuple[str, Any]]:
    """Return the rows of ``server status``: counts, slots, version, uptime."""
    by_status = _by_status(stats)
    pairs: list[tuple[str, Any]] = [
        ("version", stats.version),
        ("uptime", format_duration(stats.uptime_seconds)),
        ("slots", stats.slots),
        ("paused", stats.paused),
        ("running", stats.running),
        ("queue depth", stats.queue_depth),
        ("projects", stats.total_projects),
        ("tasks", stats.total_tasks),
    ]
    return pairs + [(f"  {name}", count) for name, count in by_status]


def metric_pairs(stats: Stats) -> list[tuple[str, Any]]:
    """Return the counters of ``server metrics``, named like metrics."""
    return [
        ("tasks_total", stats.total_tasks),
        *((f"tasks_{name}", count) for name, count in _by_status(stats)),
        ("projects_total", stats.total_projects),
        ("queue_depth", stats.queue_depth),
        ("queue_paused", int(stats.paused)),
        ("running", stats.running),
        ("slots", stats.slots),
        ("uptime_seconds", round(stats.uptime_seconds, 3)),
        # Since the server started.
        ("tasks_created_since_start", stats.tasks_created_total),
        *(
            (f"runs_{name}_since_start", count)
            for name, count in sorted(stats.tasks_finished_total.items())
        ),
        ("run_seconds_since_start", round(stats.task_duration_sum_seconds, 3)),
    ]


def _by_status(stats: Stats) -> list[tuple[str, int]]:
    names = list(TASK_STATUSES)
    names += sorted(set(stats.tasks_by_status) - set(names))
    return [(name, stats.tasks_by_status.get(name, 0)) for name in names]


def format_duration(seconds: float) -> str:
    """Return e.g. "2d 03h 04m 05s" for a number of seconds."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m {secs:02d}s"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _emit_data(data: Any, output_format: str, file: TextIO | None) -> None:
    out = file or sys.stdout
    if output_format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
    elif output_format == "yaml":
        out.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        raise ValueError(f"unknown output format {output_format!r}")


def _emit_table(
    headers: list[str],
    rows: list[list[str]],
    *,
    file: TextIO | None,
    terminal: bool | None,
    header: bool,
) -> None:
    out = file or sys.stdout
    if terminal is None:
        terminal = out.isatty()
    if terminal and STYLE.table_style != "plain":
        _rich_table(headers, rows, out, header=header)
        return
    if header:
        rows = [[name.upper() for name in headers], *rows]
    out.write(plain_table(rows))


def plain_table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows as columns aligned with two spaces; no trailing blanks."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        padded = [text.ljust(width) for text, width in zip(row, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def _rich_table(
    headers: list[str], rows: list[list[str]], out: TextIO, *, header: bool
) -> None:
    framed = STYLE.table_style in ("rounded", "ascii")
    table = Table(
        box=_BOXES.get(STYLE.table_style, box.SIMPLE_HEAD)
        if header or framed
        else None,
        show_header=header,
        show_edge=framed,
        pad_edge=framed,
    )
    colors = STYLE.colors
    for name in headers:
        table.add_column(name, no_wrap=True, header_style="bold" if colors else "")
    for row in rows:
        table.add_row(
            *(Text(text, style=_STYLES.get(text, "") if colors else "") for text in row)
        )

    console = Console(file=out, highlight=False, no_color=not colors)
    # Ids must stay whole to be copied: let a narrow terminal wrap the
    # lines rather than have rich shorten the cells.
    natural = console.measure(table, options=console.options.update_width(10_000))
    console.width = max(console.width, natural.maximum)
    console.print(table)


def emit_development(
    workflow: DevelopmentWorkflow,
    next_command: str,
    output_format: str,
    *,
    file: TextIO | None = None,
    terminal: bool | None = None,
) -> None:
    """Print a development workflow: where it stands, what to do, its reviews.

    ``next_command`` is the command line that makes progress now (empty
    when none does); JSON and YAML carry it as ``next_command``.
    """
    if output_format != "table":
        _emit_data(
            {**to_plain(workflow), "next_command": next_command}, output_format, file
        )
        return
    out = file or sys.stdout
    rows = [
        ["task_id", workflow.task_id],
        ["phase", workflow.phase],
        ["instructions", cell(workflow.instructions)],
    ]
    if next_command:
        rows.append(["next", cell(next_command)])
    rows += [["unmet gate", cell(gate)] for gate in workflow.unmet_gates]
    if workflow.failure_reason:
        rows.append(["failure_reason", cell(workflow.failure_reason)])
    rows.append(["documentation", cell(workflow.technical_documentation_path)])
    coverage = workflow.test_coverage_percentage
    rows.append(
        [
            "coverage",
            ("not reported" if coverage is None else f"{coverage:g}%")
            + f" (threshold {workflow.coverage_threshold:g}%)",
        ]
    )
    approvals = workflow.approvals
    reviews = f"round {workflow.review_round}: {len(approvals)} of "
    reviews += f"{workflow.required_reviews} approvals"
    if approvals:
        reviews += " (" + ", ".join(cell(name) for name in approvals) + ")"
    rows.append(["reviews", reviews])
    rows.append(["test_run", describe_test_run(workflow)])
    rows.append(["started_at", cell(workflow.started_at)])
    if workflow.completed_at is not None:
        rows.append(["completed_at", cell(workflow.completed_at)])
    _emit_table(["field", "value"], rows, file=out, terminal=terminal, header=False)
    if workflow.ai_review_reports:
        print(file=out)
        _emit_table(
            ["round", "model", "type", "score", "approved", "suggestions"],
            [
                [
                    str(review.round),
                    cell(review.model_name),
                    review.review_type,
                    cell(review.score),
                    cell(review.approved),
                    cell(review.suggestions),
                ]
                for review in workflow.ai_review_reports
            ],
            file=out,
            terminal=terminal,
            header=True,
        )


def describe_test_run(workflow: DevelopmentWorkflow) -> str:
    """Return e.g. "attempt 2, exited 0" for the workflow's test run."""
    run = workflow.test_run
    if run is None:
        return "none yet"
    if run.running:
        return f"attempt {run.attempt}, running"
    if run.exit_code is None:
        return f"attempt {run.attempt}, did not start"
    return f"attempt {run.attempt}, exited {run.exit_code}"
