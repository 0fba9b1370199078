"""TaskService: convert, ask the actors, convert back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import grpc

from tq_actors import (
    InvalidArgument,
    ServerEvent,
    TaskEvent,
    TaskQueueSystem,
    TaskSpec,
    validate,
)
from tq_grpc import convert
from tq_grpc._gen import tasks_pb2, tasks_pb2_grpc
from tq_grpc.errors import streaming, unary

logger = logging.getLogger(__name__)

FOLLOW_POLL_SECONDS = 0.1
WATCH_QUEUE_LIMIT = 10_000


class TaskServicer(tasks_pb2_grpc.TaskServiceServicer):
    """Serves TaskService on a running TaskQueueSystem."""

    def __init__(self, system: TaskQueueSystem) -> None:
        self._system = system

    @unary
    async def CreateTask(
        self, request: tasks_pb2.CreateTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.CreateTaskResponse:
        """Create one task."""
        spec = convert.spec_from_proto(request.task)
        created = await asyncio.wrap_future(self._system.create_tasks([spec]))
        task = self._system.explain(created)[0]
        return tasks_pb2.CreateTaskResponse(task=convert.task_to_proto(task))

    @unary
    async def BatchCreateTasks(
        self,
        request: tasks_pb2.BatchCreateTasksRequest,
        context: grpc.aio.ServicerContext,
    ) -> tasks_pb2.BatchCreateTasksResponse:
        """Create many tasks in one atomic write.

        Converting thousands of specs takes a while; it runs off the event
        loop so that other calls keep being answered.
        """
        if not request.tasks:
            raise InvalidArgument("tasks", "at least one task is required.")
        specs = await asyncio.to_thread(_specs_of, request.tasks)
        future = await asyncio.to_thread(self._system.create_tasks, specs)
        created = await asyncio.wrap_future(future)
        tasks = await asyncio.to_thread(
            lambda: [convert.task_to_proto(t) for t in self._system.explain(created)]
        )
        return tasks_pb2.BatchCreateTasksResponse(tasks=tasks)

    @unary
    async def GetTask(
        self, request: tasks_pb2.GetTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.GetTaskResponse:
        """Return one task."""
        task = self._system.get_task(request.id)
        return tasks_pb2.GetTaskResponse(task=convert.task_to_proto(task))

    @unary
    async def ListTasks(
        self, request: tasks_pb2.ListTasksRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.ListTasksResponse:
        """Return one page of tasks."""
        tasks, token = await asyncio.to_thread(
            self._system.list_tasks,
            status=convert.status_filter(request.status),
            project_id=request.project_id,
            priority=convert.priority_filter(request.priority),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return tasks_pb2.ListTasksResponse(
            tasks=[convert.task_to_proto(task) for task in tasks],
            next_page_token=token,
        )

    @unary
    async def UpdateTask(
        self, request: tasks_pb2.UpdateTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.UpdateTaskResponse:
        """Change a pending task."""
        changes = convert.changes_from_update(request)
        task = await asyncio.wrap_future(self._system.update_task(request.id, changes))
        task = self._system.explain([task])[0]
        return tasks_pb2.UpdateTaskResponse(task=convert.task_to_proto(task))

    @unary
    async def DeleteTask(
        self, request: tasks_pb2.DeleteTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.DeleteTaskResponse:
        """Delete a task that is not running."""
        future = self._system.delete_task(request.id, cascade=request.cascade)
        deleted = await asyncio.wrap_future(future)
        return tasks_pb2.DeleteTaskResponse(id=deleted[0], deleted_ids=deleted)

    @unary
    async def CancelTask(
        self, request: tasks_pb2.CancelTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.CancelTaskResponse:
        """Cancel a task; answers once a running one's process group is gone."""
        future = self._system.cancel_task(request.id, request.reason)
        task = self._system.explain([await asyncio.wrap_future(future)])[0]
        return tasks_pb2.CancelTaskResponse(task=convert.task_to_proto(task))

    @unary
    async def RetryTask(
        self, request: tasks_pb2.RetryTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.RetryTaskResponse:
        """Queue a settled task again."""
        task = await asyncio.wrap_future(self._system.retry_task(request.id))
        task = self._system.explain([task])[0]
        return tasks_pb2.RetryTaskResponse(task=convert.task_to_proto(task))

    @unary
    async def GetTaskHistory(
        self,
        request: tasks_pb2.GetTaskHistoryRequest,
        context: grpc.aio.ServicerContext,
    ) -> tasks_pb2.GetTaskHistoryResponse:
        """Return every transition of a task."""
        events = await asyncio.to_thread(self._system.history, request.id)
        return tasks_pb2.GetTaskHistoryResponse(
            events=[convert.event_to_proto(event) for event in events]
        )

    @unary
    async def ReadTaskLog(
        self, request: tasks_pb2.ReadTaskLogRequest, context: grpc.aio.ServicerContext
    ) -> tasks_pb2.ReadTaskLogResponse:
        """Return a slice of a task's output."""
        chunk = await asyncio.to_thread(
            self._system.read_log, request.id, request.offset, request.max_bytes
        )
        return tasks_pb2.ReadTaskLogResponse(
            data=chunk.data,
            next_offset=chunk.next_offset,
            eof=chunk.eof,
            size_bytes=chunk.size_bytes,
            truncated=chunk.truncated,
        )

    @streaming
    async def FollowTaskLog(
        self,
        request: tasks_pb2.FollowTaskLogRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[tasks_pb2.FollowTaskLogResponse]:
        """Stream a task's output until it has ended and is drained."""
        offset = request.offset
        while True:
            chunk = await asyncio.to_thread(
                self._system.read_log, request.id, offset, 0
            )
            if chunk.data:
                yield tasks_pb2.FollowTaskLogResponse(data=chunk.data, offset=offset)
                offset = chunk.next_offset
                continue
            if chunk.eof:
                return
            await asyncio.sleep(FOLLOW_POLL_SECONDS)

    @streaming
    async def WatchEvents(
        self, request: tasks_pb2.WatchEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[tasks_pb2.WatchEventsResponse]:
        """Stream task transitions (and server events if asked) as committed."""
        wanted_ids = {validate.task_id(i, "task_ids") for i in request.task_ids}
        project_id = validate.optional_id(request.project_id, "project_id")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TaskEvent | ServerEvent | None] = asyncio.Queue()

        def wanted(event: TaskEvent | ServerEvent) -> bool:
            if isinstance(event, ServerEvent):
                return not (event.project_id and project_id) or (
                    event.project_id == project_id
                )
            if wanted_ids and event.task_id not in wanted_ids:
                return False
            return not project_id or event.project_id == project_id

        def offer(events: Sequence[TaskEvent | ServerEvent]) -> None:
            for event in events:
                if not wanted(event):
                    continue
                if queue.qsize() >= WATCH_QUEUE_LIMIT:
                    queue.put_nowait(None)
                    return
                queue.put_nowait(event)

        def deliver(events: Sequence[TaskEvent | ServerEvent]) -> None:
            loop.call_soon_threadsafe(offer, events)

        token = await asyncio.to_thread(
            self._system.subscribe,
            deliver,
            server_events=request.include_server_events,
        )
        try:
            while True:
                event = await queue.get()
                if event is None:
                    logger.warning("WatchEvents: a slow watcher fell behind; closed")
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "The watcher fell too far behind; watch again.",
                    )
                if isinstance(event, ServerEvent):
                    yield tasks_pb2.WatchEventsResponse(
                        server_event=convert.server_event_to_proto(event)
                    )
                else:
                    yield tasks_pb2.WatchEventsResponse(
                        event=convert.event_to_proto(event)
                    )
        finally:
            self._system.unsubscribe(token)


def _specs_of(specs: Sequence[tasks_pb2.TaskSpec]) -> list[TaskSpec]:
    """Convert batch specs, naming the index of a bad one."""
    converted = []
    for index, spec in enumerate(specs):
        try:
            converted.append(convert.spec_from_proto(spec))
        except InvalidArgument as exc:
            raise exc.within(f"tasks[{index}]") from None
    return converted
