"""The asynchronous Python client of the task queue, over ``grpc.aio``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import grpc

from taskqueue.client import (
    CANCEL_TIMEOUT_SECONDS,
    MAX_PAGE_SIZE,
    POLL_SECONDS,
    WorkflowPoll,
    channel_options,
    resolve_target,
)
from taskqueue.errors import from_rpc_error
from taskqueue.models import (
    PRIORITY,
    TASK_STATUS,
    DependencyLike,
    Ping,
    Project,
    Stats,
    Task,
    TaskEvent,
    Workflow,
    project_create,
    task_spec,
    task_update,
    workflow_create,
)
from tq_grpc._gen import (
    projects_pb2,
    projects_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
    workflows_pb2,
    workflows_pb2_grpc,
)

logger = logging.getLogger(__name__)


class AsyncTaskQueueClient:
    """Talk to a task queue server from asyncio; methods mirror TaskQueueClient.

    Create it inside a running event loop and close it there, preferably
    with ``async with``. The arguments are those of TaskQueueClient.

    Raises:
        ValidationError: ``url`` or a ``TASK_QUEUE_*`` setting is malformed.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 30,
        api_key: str | None = None,
    ) -> None:
        self.target, api_key = resolve_target(url, api_key)
        self.timeout = timeout
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._channel = grpc.aio.insecure_channel(
            self.target, options=channel_options(self.target)
        )
        self._tasks = tasks_pb2_grpc.TaskServiceStub(self._channel)
        self._projects = projects_pb2_grpc.ProjectServiceStub(self._channel)
        self._system = system_pb2_grpc.SystemServiceStub(self._channel)
        self._workflows = workflows_pb2_grpc.WorkflowServiceStub(self._channel)
        logger.debug("Async client for %r created.", self.target)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; the client cannot be used afterwards."""
        await self._channel.close()

    # Projects

    async def create_project(
        self,
        name: str,
        description: str = "",
        *,
        status: str | None = None,
        parent_id: str | None = None,
        tags: Iterable[str] | None = None,
        max_parallel: int = 0,
        coverage_threshold: float | None = None,
        required_reviews: int | None = None,
    ) -> Project:
        """Create a project; ``status`` defaults to "active" on the server."""
        request = project_create(
            name,
            description,
            status=status,
            parent_id=parent_id,
            tags=tags,
            max_parallel=max_parallel,
            coverage_threshold=coverage_threshold,
            required_reviews=required_reviews,
        )
        response = await self._call(self._projects.CreateProject, request)
        return Project.from_proto(response.project)

    async def get_project(self, project_id: str) -> Project:
        """Return one project."""
        request = projects_pb2.GetProjectRequest(id=project_id)
        response = await self._call(self._projects.GetProject, request)
        return Project.from_proto(response.project)

    async def list_projects(self, limit: int | None = None) -> list[Project]:
        """Return the projects, following pages until ``limit`` or the end."""
        request = projects_pb2.ListProjectsRequest()
        found = await self._pages(
            self._projects.ListProjects, request, "projects", limit
        )
        return [Project.from_proto(message) for message in found]

    # Tasks

    async def create_task(
        self,
        name: str,
        command: str = "",
        project_id: str | None = None,
        description: str = "",
        priority: str = "normal",
        working_dir: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_seconds: int = 0,
        tags: Iterable[str] | None = None,
        idempotency_key: str | None = None,
        *,
        max_retries: int = 0,
        retry_delay_seconds: float = 0.0,
        depends_on: Iterable[DependencyLike] | None = None,
        start_after: datetime | str | None = None,
        development_workflow: bool = False,
    ) -> Task:
        """Create a task; the arguments are those of TaskQueueClient.create_task."""
        spec = task_spec(
            name=name,
            command=command,
            project_id=project_id,
            description=description,
            priority=priority,
            working_dir=working_dir,
            env=env,
            timeout_seconds=timeout_seconds,
            tags=tags,
            idempotency_key=idempotency_key,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
            depends_on=depends_on,
            start_after=start_after,
            development_workflow=development_workflow,
        )
        request = tasks_pb2.CreateTaskRequest(task=spec)
        response = await self._call(self._tasks.CreateTask, request)
        return Task.from_proto(response.task)

    async def create_tasks(self, specs: Iterable[Mapping[str, Any]]) -> list[Task]:
        """Create tasks in one atomic write; dicts take create_task's arguments."""
        request = tasks_pb2.BatchCreateTasksRequest(
            tasks=[task_spec(**spec) for spec in specs]
        )
        response = await self._call(self._tasks.BatchCreateTasks, request)
        return [Task.from_proto(message) for message in response.tasks]

    async def get_task(self, task_id: str) -> Task:
        """Return one task."""
        request = tasks_pb2.GetTaskRequest(id=task_id)
        response = await self._call(self._tasks.GetTask, request)
        return Task.from_proto(response.task)

    async def list_tasks(
        self,
        status: str | None = None,
        project_id: str | None = None,
        priority: str | None = None,
        limit: int | None = None,
    ) -> list[Task]:
        """Return tasks in creation order, paging until ``limit`` or the end."""
        request = tasks_pb2.ListTasksRequest(
            status=TASK_STATUS.to_filter(status),
            project_id=project_id or "",
            priority=PRIORITY.to_filter(priority),
        )
        found = await self._pages(self._tasks.ListTasks, request, "tasks", limit)
        return [Task.from_proto(message) for message in found]

    async def update_task(
        self,
        task_id: str,
        *,
        name: str | None = None,
        command: str | None = None,
        description: str | None = None,
        priority: str | None = None,
        working_dir: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_seconds: int | None = None,
        max_retries: int | None = None,
        retry_delay_seconds: float | None = None,
        tags: Iterable[str] | None = None,
        depends_on: Iterable[DependencyLike] | None = None,
        start_after: datetime | str | None = None,
        clear_start_after: bool = False,
    ) -> Task:
        """Change fields of a pending task, as TaskQueueClient.update_task does."""
        request = task_update(
            task_id,
            name=name,
            command=command,
            description=description,
            priority=priority,
            working_dir=working_dir,
            env=env,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
            tags=tags,
            depends_on=depends_on,
            start_after=start_after,
            clear_start_after=clear_start_after,
        )
        response = await self._call(self._tasks.UpdateTask, request)
        return Task.from_proto(response.task)

    async def cancel_task(self, task_id: str, reason: str = "") -> Task:
        """Cancel a task; waits at least CANCEL_TIMEOUT_SECONDS, like the sync one."""
        request = tasks_pb2.CancelTaskRequest(id=task_id, reason=reason)
        timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = await self._call(self._tasks.CancelTask, request, timeout=timeout)
        return Task.from_proto(response.task)

    async def retry_task(self, task_id: str) -> Task:
        """Start the next attempt of a finished task."""
        request = tasks_pb2.RetryTaskRequest(id=task_id)
        response = await self._call(self._tasks.RetryTask, request)
        return Task.from_proto(response.task)

    async def delete_task(self, task_id: str, cascade: bool = False) -> list[str]:
        """Delete a task (with ``cascade``, its dependents); return the ids deleted."""
        request = tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade)
        response = await self._call(self._tasks.DeleteTask, request)
        return list(response.deleted_ids) or [response.id or task_id]

    async def task_history(self, task_id: str) -> list[TaskEvent]:
        """Return every transition of a task, oldest first."""
        request = tasks_pb2.GetTaskHistoryRequest(id=task_id)
        response = await self._call(self._tasks.GetTaskHistory, request)
        return [TaskEvent.from_proto(message) for message in response.events]

    async def read_log(
        self, task_id: str, offset: int = 0, max_bytes: int = 0
    ) -> tuple[bytes, int, bool]:
        """Return ``(data, next_offset, eof)`` of a task's output from ``offset``."""
        request = tasks_pb2.ReadTaskLogRequest(
            id=task_id, offset=offset, max_bytes=max_bytes
        )
        response = await self._call(self._tasks.ReadTaskLog, request)
        return bytes(response.data), int(response.next_offset), bool(response.eof)

    async def wait(self, task_id: str, timeout: float | None = None) -> Task:
        """Poll a task until it is completed, failed or cancelled; return it.

        Raises:
            TimeoutError: The task had not finished after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            task = await self.get_task(task_id)
            if task.finished:
                return task
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Task {task_id} is still {task.status} after {timeout:g}s."
                )
            await asyncio.sleep(POLL_SECONDS)

    # Workflows

    async def create_workflow(
        self,
        document_or_name: Mapping[str, Any] | str,
        tasks: Sequence[Mapping[str, Any]] | None = None,
        project_id: str | None = None,
        description: str = "",
    ) -> Workflow:
        """Create a workflow; see TaskQueueClient.create_workflow."""
        request = workflow_create(document_or_name, tasks, project_id, description)
        response = await self._call(self._workflows.CreateWorkflow, request)
        return Workflow.from_proto(response.workflow)

    async def get_workflow(self, workflow_id: str) -> Workflow:
        """Return one workflow with its tasks and edges."""
        request = workflows_pb2.GetWorkflowRequest(id=workflow_id)
        response = await self._call(self._workflows.GetWorkflow, request)
        return Workflow.from_proto(response.workflow)

    async def list_workflows(
        self, project_id: str | None = None, limit: int | None = None
    ) -> list[Workflow]:
        """Return workflows in creation order, without their tasks and edges."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        found = await self._pages(
            self._workflows.ListWorkflows, request, "workflows", limit
        )
        return [Workflow.from_proto(message) for message in found]

    async def cancel_workflow(self, workflow_id: str, reason: str = "") -> Workflow:
        """Cancel every task of a workflow that has not ended."""
        request = workflows_pb2.CancelWorkflowRequest(id=workflow_id, reason=reason)
        timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = await self._call(
            self._workflows.CancelWorkflow, request, timeout=timeout
        )
        return Workflow.from_proto(response.workflow)

    async def retry_workflow(self, workflow_id: str) -> Workflow:
        """Run the failed and cancelled tasks again, with all downstream of them."""
        request = workflows_pb2.RetryWorkflowRequest(id=workflow_id)
        response = await self._call(self._workflows.RetryWorkflow, request)
        return Workflow.from_proto(response.workflow)

    async def wait_workflow(
        self,
        workflow_id: str,
        timeout: float | None = None,
        on_change: Callable[[Workflow], None] | None = None,
    ) -> Workflow:
        """Poll a workflow until it has ended; see TaskQueueClient.wait_workflow.

        Raises:
            TimeoutError: It had not finished after ``timeout`` seconds.
        """
        poll = WorkflowPoll(workflow_id, timeout, on_change)
        while True:
            delay = poll.seen(await self.get_workflow(workflow_id))
            if delay is None:
                return poll.workflow
            await asyncio.sleep(delay)

    # Server

    async def pause_queue(self) -> bool:
        """Stop dispatching new tasks (running ones go on); return True."""
        request = system_pb2.PauseQueueRequest()
        return bool((await self._call(self._system.PauseQueue, request)).paused)

    async def resume_queue(self) -> bool:
        """Dispatch tasks again; return whether the queue is still paused."""
        request = system_pb2.ResumeQueueRequest()
        return bool((await self._call(self._system.ResumeQueue, request)).paused)

    async def stats(self) -> Stats:
        """Return server-wide counts."""
        request = system_pb2.GetStatsRequest()
        return Stats.from_proto(await self._call(self._system.GetStats, request))

    async def ping(self) -> Ping:
        """Make the cheapest round trip; return the server's version and time."""
        started = time.perf_counter()
        response = await self._call(self._system.Ping, system_pb2.PingRequest())
        round_trip_seconds = time.perf_counter() - started

        server_time = None
        if response.HasField("server_time"):
            server_time = response.server_time.ToDatetime(tzinfo=UTC)
        return Ping(response.version, server_time, round_trip_seconds)

    # Transport

    async def _call(
        self, method: Callable[..., Any], request: Any, timeout: float | None = None
    ) -> Any:
        try:
            return await method(
                request, timeout=timeout or self.timeout, metadata=self._metadata
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, target=self.target) from exc

    async def _pages(
        self,
        method: Callable[..., Any],
        request: Any,
        field: str,
        limit: int | None,
    ) -> list[Any]:
        found: list[Any] = []
        if limit is not None and limit <= 0:
            return found
        while True:
            wanted = MAX_PAGE_SIZE if limit is None else limit - len(found)
            request.page_size = min(wanted, MAX_PAGE_SIZE)
            response = await self._call(method, request)
            found.extend(getattr(response, field))

            done = limit is not None and len(found) >= limit
            if done or not response.next_page_token:
                return found[:limit]
            request.page_token = response.next_page_token
