"""Tools that create, read, change and run tasks."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from tq_grpc._gen import tasks_pb2
from tq_mcp import convert, models
from tq_mcp.arguments import (
    DEFAULT_LIMIT,
    Cursor,
    Dependency,
    Env,
    Int32,
    Limit,
    Priority,
    ProjectId,
    Seconds,
    Tags,
    TaskId,
    TaskStatus,
    Text,
    Time,
)
from tq_mcp.gateway import Gateway

MAX_LOG_SLICE_BYTES = 64 * 1024
LOG_ENCODING = (
    "UTF-8; invalid bytes appear as U+FFFD; a character cut by the end of the "
    "slice is left for the next read."
)
TASK_ALIASES = {"id": "task_id"}
LIST_ALIASES = {"page_token": "cursor", "page_size": "limit"}

Name = Annotated[Text, Field(description="Short name, 1-256 characters.")]
Command = Annotated[
    Text, Field(description="Run as `/bin/sh -c command`; empty: tracking only.")
]
Dependencies = Annotated[
    list[Dependency],
    Field(description="Task ids, or {task_id, condition: success|failure|completion}."),
]
LogBytes = Annotated[
    int, Strict(), Field(ge=1, le=MAX_LOG_SLICE_BYTES, description="At most 65536.")
]
Offset = Annotated[
    int, Strict(), Field(ge=0, le=2**63 - 1, description="Byte offset to read from.")
]


class TaskTools:
    """The task tools, bound to one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def _get(self, task_id: str) -> tasks_pb2.Task:
        answer = await self._gateway.call(
            self._gateway.tasks.GetTask,
            tasks_pb2.GetTaskRequest(id=task_id),
            aliases=TASK_ALIASES,
        )
        return answer.task

    async def submit_task(
        self,
        name: Name,
        command: Command = "",
        project_id: ProjectId | None = None,
        description: Text = "",
        priority: Priority = "normal",
        depends_on: Dependencies | None = None,
        development_workflow: Annotated[
            bool,
            Strict(),
            Field(description="Enter the gated development workflow (default)."),
        ] = True,
        tags: Tags | None = None,
        working_dir: Text | None = None,
        env: Env | None = None,
        timeout_seconds: Annotated[Int32, Field(description="0: none.")] = 0,
        max_retries: Int32 = 0,
        retry_delay_seconds: Seconds = 0.0,
        start_after: Time | None = None,
        idempotency_key: Text | None = None,
    ) -> models.TaskAnswer:
        """Create a task. By default it enters the development workflow in
        `planning` and is not run until it reaches `testing`; follow the
        answer's next_call. With development_workflow false it is queued and
        run when a slot is free."""
        spec = tasks_pb2.TaskSpec(
            name=name,
            command=command,
            description=description,
            project_id=project_id or "",
            priority=convert.priority_number(priority),
            depends_on=convert.dependencies(depends_on or []),
            working_dir=working_dir or "",
            env=env or {},
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
            tags=tags or [],
            idempotency_key=idempotency_key or "",
            development_workflow=development_workflow,
        )
        if start_after is not None:
            spec.start_after.CopyFrom(convert.timestamp(start_after))
        answer = await self._gateway.call(
            self._gateway.tasks.CreateTask, tasks_pb2.CreateTaskRequest(task=spec)
        )
        return convert.task_answer(answer.task)

    async def get_task(self, task_id: TaskId) -> models.TaskAnswer:
        """Get a task in full, with its development workflow's next_call,
        instructions and unmet gates."""
        return convert.task_answer(await self._get(task_id))

    async def list_tasks(
        self,
        limit: Limit = DEFAULT_LIMIT,
        status: TaskStatus | None = None,
        project_id: ProjectId | None = None,
        priority: Priority | None = None,
        cursor: Cursor = None,
    ) -> models.TaskPage:
        """List tasks in creation order, optionally filtered; page on with
        next_cursor."""
        answer = await self._gateway.call(
            self._gateway.tasks.ListTasks,
            tasks_pb2.ListTasksRequest(
                status=convert.status_number(status),
                project_id=project_id or "",
                priority=convert.priority_number(priority),
                page_size=limit,
                page_token=cursor or "",
            ),
            aliases=LIST_ALIASES,
        )
        return models.TaskPage(
            tasks=[convert.task_summary(t) for t in answer.tasks],
            next_cursor=answer.next_page_token or None,
        )

    async def update_task(
        self,
        task_id: TaskId,
        name: Name | None = None,
        command: Text | None = None,
        description: Text | None = None,
        priority: Priority | None = None,
        depends_on: Annotated[
            Dependencies | None, Field(description="Replaces every dependency.")
        ] = None,
        tags: Annotated[Tags | None, Field(description="Replaces the tags.")] = None,
        working_dir: Text | None = None,
        env: Annotated[Env | None, Field(description="Replaces the env.")] = None,
        timeout_seconds: Int32 | None = None,
        max_retries: Int32 | None = None,
        retry_delay_seconds: Seconds | None = None,
        start_after: Time | None = None,
    ) -> models.TaskAnswer:
        """Change a pending task; omitted arguments keep their value. Status
        changes go through cancel_task, retry_task and advance_workflow_phase."""
        request = tasks_pb2.UpdateTaskRequest(id=task_id)
        texts = {"name": name, "command": command, "description": description}
        texts["working_dir"] = working_dir
        for field, text in texts.items():
            if text is not None:
                setattr(request, field, text)
        numbers = {"timeout_seconds": timeout_seconds, "max_retries": max_retries}
        for field, number in numbers.items():
            if number is not None:
                setattr(request, field, number)
        if retry_delay_seconds is not None:
            request.retry_delay_seconds = retry_delay_seconds
        if priority is not None:
            request.priority = convert.priority_number(priority)
        if depends_on is not None:
            request.depends_on.extend(convert.dependencies(depends_on))
            request.update_depends_on = True
        if tags is not None:
            request.tags.extend(tags)
            request.update_tags = True
        if env is not None:
            request.env.update(env)
            request.update_env = True
        if start_after is not None:
            request.start_after.CopyFrom(convert.timestamp(start_after))
        answer = await self._gateway.call(
            self._gateway.tasks.UpdateTask, request, aliases=TASK_ALIASES
        )
        return convert.task_answer(answer.task)

    async def cancel_task(
        self,
        task_id: TaskId,
        reason: Annotated[Text, Field(description="Kept as the status reason.")] = "",
    ) -> models.TaskAnswer:
        """Cancel a task that has not ended; a running one is stopped (its
        whole process group) before the answer."""
        answer = await self._gateway.call(
            self._gateway.tasks.CancelTask,
            tasks_pb2.CancelTaskRequest(id=task_id, reason=reason),
            aliases=TASK_ALIASES,
        )
        return convert.task_answer(answer.task)

    async def delete_task(
        self,
        task_id: TaskId,
        cascade: Annotated[
            bool,
            Strict(),
            Field(description="Also delete every task that depends on it."),
        ] = False,
    ) -> models.DeletedTasks:
        """Delete a task and its history and log. A task others depend on is
        kept unless cascade is true."""
        answer = await self._gateway.call(
            self._gateway.tasks.DeleteTask,
            tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade),
            aliases=TASK_ALIASES,
        )
        return models.DeletedTasks(
            task_id=answer.id, deleted_ids=list(answer.deleted_ids)
        )

    async def retry_task(self, task_id: TaskId) -> models.TaskAnswer:
        """Run a failed, cancelled or completed task again as a new attempt."""
        answer = await self._gateway.call(
            self._gateway.tasks.RetryTask,
            tasks_pb2.RetryTaskRequest(id=task_id),
            aliases=TASK_ALIASES,
        )
        return convert.task_answer(answer.task)

    async def get_task_logs(
        self,
        task_id: TaskId,
        offset: Offset = 0,
        max_bytes: LogBytes = MAX_LOG_SLICE_BYTES,
    ) -> models.LogSlice:
        """Read up to 64 KiB of a task's output (stdout and stderr) from a
        byte offset, as UTF-8 text; read on from next_offset."""
        answer = await self._gateway.call(
            self._gateway.tasks.ReadTaskLog,
            tasks_pb2.ReadTaskLogRequest(
                id=task_id, offset=offset, max_bytes=max_bytes
            ),
            aliases=TASK_ALIASES,
        )
        data = bytes(answer.data)
        # eof: the task has ended and nothing lies beyond this slice.
        kept = len(data) if answer.eof else complete_utf8_prefix(data)
        kept = fitting_prefix(data, kept, max_bytes)
        return models.LogSlice(
            task_id=task_id,
            offset=offset,
            next_offset=answer.next_offset - (len(data) - kept),
            size_bytes=answer.size_bytes,
            eof=answer.eof and kept == len(data),
            truncated=answer.truncated,
            text=data[:kept].decode("utf-8", "replace"),
            encoding=LOG_ENCODING,
        )


def fitting_prefix(data: bytes, kept: int, limit: int) -> int:
    """Shorten a slice so that its decoded text is at most limit bytes.

    Each invalid byte becomes U+FFFD (three bytes), so binary output could
    triple the answer; the rest is left for the next read.
    """
    if len(data[:kept].decode("utf-8", "replace").encode()) <= limit:
        return kept
    low, high = 0, kept
    while low < high:
        middle = (low + high + 1) // 2
        if len(data[:middle].decode("utf-8", "replace").encode()) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def complete_utf8_prefix(data: bytes) -> int:
    """Return the length of data without a UTF-8 character cut at its end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: the lead lies before
            continue
        needed = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 1
        needed = 4 if byte >> 3 == 0b11110 else needed
        return len(data) - back if back < needed else len(data)
    return len(data)
