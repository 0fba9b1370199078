"""The asynchronous Python client of the task queue, over ``grpc.aio``.

Every method of TaskQueueClient is here as a coroutine (iterators and
streams as async iterators), with the same arguments, errors, timeouts and
retries; see ``taskqueue.client`` for the shared pieces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import grpc
from grpc_health.v1 import health_pb2

from taskqueue.client import (
    CANCEL_TIMEOUT_SECONDS,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_PAGE_SIZE,
    MAX_POLL_SECONDS,
    RPCS,
    TASK,
    Pages,
    Poll,
    TaskWatch,
    WorkflowWatch,
    all_keyed,
    backoff_delays,
    channel_options,
    check_client_options,
    deadline_after,
    expired,
    health_status,
    make_stubs,
    ping_of,
    resolve_target,
    time_left,
    unavailable,
)
from taskqueue.errors import from_rpc_error
from taskqueue.models import (
    PRIORITY,
    TASK_STATUS,
    Activity,
    DependencyLike,
    DevelopmentWorkflow,
    Ping,
    Project,
    Stats,
    Task,
    TaskEvent,
    Workflow,
    project_create,
    project_update,
    review_request,
    task_spec,
    task_update,
    workflow_create,
    workflow_get,
)
from tq_grpc._gen import (
    development_pb2,
    projects_pb2,
    system_pb2,
    tasks_pb2,
    tasks_pb2_grpc,
    workflows_pb2,
)

logger = logging.getLogger(__name__)


class AsyncTaskQueueClient:
    """Talk to a task queue server from asyncio; methods mirror TaskQueueClient.

    Create it inside a running event loop and close it there, preferably
    with ``async with``. The arguments are those of TaskQueueClient:
    ``url``, ``timeout`` (seconds per call), ``api_key`` and ``retries``
    (on UNAVAILABLE, for the calls that are safe to repeat).

    Raises:
        ValidationError: ``url``, ``timeout``, ``retries`` or a
            ``TASK_QUEUE_*`` setting is malformed.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        api_key: str | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        check_client_options(timeout, retries)
        self.target, api_key = resolve_target(url, api_key)
        self.timeout = timeout
        self.retries = retries
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._channel = grpc.aio.insecure_channel(
            self.target, options=channel_options(self.target)
        )
        self._stubs = make_stubs(self._channel)
        self._tasks: tasks_pb2_grpc.TaskServiceStub = self._stubs["tasks"]
        logger.debug("Async client for %r created.", self.target)

    def __repr__(self) -> str:
        return f"AsyncTaskQueueClient({self.target!r})"

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
        timeout: float | None = None,
    ) -> Project:
        """Create a project; see TaskQueueClient.create_project."""
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
        response = await self._call("CreateProject", request, timeout)
        return Project.from_proto(response.project)

    async def get_project(
        self, project_id: str, *, timeout: float | None = None
    ) -> Project:
        """Return one project."""
        request = projects_pb2.GetProjectRequest(id=project_id)
        response = await self._call("GetProject", request, timeout)
        return Project.from_proto(response.project)

    async def list_projects(
        self, limit: int | None = None, *, timeout: float | None = None
    ) -> list[Project]:
        """Return the projects, following pages until ``limit`` or the end."""
        request = projects_pb2.ListProjectsRequest()
        return [
            Project.from_proto(message)
            async for message in self._each(
                "ListProjects", request, "projects", limit, timeout=timeout
            )
        ]

    async def iter_projects(
        self, *, page_size: int = MAX_PAGE_SIZE, timeout: float | None = None
    ) -> AsyncIterator[Project]:
        """Yield every project, fetching a page of ``page_size`` at a time."""
        request = projects_pb2.ListProjectsRequest()
        async for message in self._each(
            "ListProjects", request, "projects", page_size=page_size, timeout=timeout
        ):
            yield Project.from_proto(message)

    async def update_project(
        self,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        status: str | None = None,
        parent_id: str | None = None,
        tags: Iterable[str] | None = None,
        max_parallel: int | None = None,
        coverage_threshold: float | None = None,
        required_reviews: int | None = None,
        timeout: float | None = None,
    ) -> Project:
        """Change the fields given; the others keep their value."""
        request = project_update(
            project_id,
            name=name,
            description=description,
            status=status,
            parent_id=parent_id,
            tags=tags,
            max_parallel=max_parallel,
            coverage_threshold=coverage_threshold,
            required_reviews=required_reviews,
        )
        response = await self._call("UpdateProject", request, timeout)
        return Project.from_proto(response.project)

    async def delete_project(
        self, project_id: str, cascade: bool = False, *, timeout: float | None = None
    ) -> int:
        """Delete a project, and its tasks when ``cascade``; return how many."""
        request = projects_pb2.DeleteProjectRequest(id=project_id, cascade=cascade)
        if timeout is None and cascade:
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = await self._call("DeleteProject", request, timeout)
        return int(response.deleted_tasks)

    async def list_project_tasks(
        self,
        project_id: str,
        status: str | None = None,
        limit: int | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Task]:
        """Return the tasks of one project, optionally of one status."""
        request = projects_pb2.ListProjectTasksRequest(
            id=project_id, status=TASK_STATUS.to_filter(status)
        )
        return [
            Task.from_proto(message)
            async for message in self._each(
                "ListProjectTasks", request, "tasks", limit, timeout=timeout
            )
        ]

    async def iter_project_tasks(
        self,
        project_id: str,
        status: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[Task]:
        """Yield the tasks of one project, a page of ``page_size`` at a time."""
        request = projects_pb2.ListProjectTasksRequest(
            id=project_id, status=TASK_STATUS.to_filter(status)
        )
        async for message in self._each(
            "ListProjectTasks", request, "tasks", page_size=page_size, timeout=timeout
        ):
            yield Task.from_proto(message)

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
        timeout: float | None = None,
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
        response = await self._call(
            "CreateTask", request, timeout, retry=bool(idempotency_key)
        )
        return Task.from_proto(response.task)

    async def create_tasks(
        self, specs: Iterable[Mapping[str, Any]], *, timeout: float | None = None
    ) -> list[Task]:
        """Create tasks in one atomic write; dicts take create_task's arguments."""
        specs = list(specs)
        request = tasks_pb2.BatchCreateTasksRequest(
            tasks=[task_spec(**spec) for spec in specs]
        )
        response = await self._call(
            "BatchCreateTasks", request, timeout, retry=all_keyed(specs)
        )
        return [Task.from_proto(message) for message in response.tasks]

    async def get_task(self, task_id: str, *, timeout: float | None = None) -> Task:
        """Return one task."""
        request = tasks_pb2.GetTaskRequest(id=task_id)
        response = await self._call("GetTask", request, timeout)
        return Task.from_proto(response.task)

    async def list_tasks(
        self,
        status: str | None = None,
        project_id: str | None = None,
        priority: str | None = None,
        limit: int | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Task]:
        """Return tasks in creation order, paging until ``limit`` or the end."""
        request = tasks_pb2.ListTasksRequest(
            status=TASK_STATUS.to_filter(status),
            project_id=project_id or "",
            priority=PRIORITY.to_filter(priority),
        )
        return [
            Task.from_proto(message)
            async for message in self._each(
                "ListTasks", request, "tasks", limit, timeout=timeout
            )
        ]

    async def iter_tasks(
        self,
        status: str | None = None,
        project_id: str | None = None,
        priority: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[Task]:
        """Yield tasks in creation order, fetching ``page_size`` at a time."""
        request = tasks_pb2.ListTasksRequest(
            status=TASK_STATUS.to_filter(status),
            project_id=project_id or "",
            priority=PRIORITY.to_filter(priority),
        )
        async for message in self._each(
            "ListTasks", request, "tasks", page_size=page_size, timeout=timeout
        ):
            yield Task.from_proto(message)

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
        timeout: float | None = None,
    ) -> Task:
        """Change fields of a task that has not started; see the sync client."""
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
        response = await self._call("UpdateTask", request, timeout)
        return Task.from_proto(response.task)

    async def cancel_task(
        self, task_id: str, reason: str = "", *, timeout: float | None = None
    ) -> Task:
        """Cancel a task; waits at least CANCEL_TIMEOUT_SECONDS, like the sync one."""
        request = tasks_pb2.CancelTaskRequest(id=task_id, reason=reason)
        if timeout is None:
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = await self._call("CancelTask", request, timeout)
        return Task.from_proto(response.task)

    async def retry_task(self, task_id: str, *, timeout: float | None = None) -> Task:
        """Start the next attempt of a finished task."""
        request = tasks_pb2.RetryTaskRequest(id=task_id)
        response = await self._call("RetryTask", request, timeout)
        return Task.from_proto(response.task)

    async def delete_task(
        self, task_id: str, cascade: bool = False, *, timeout: float | None = None
    ) -> list[str]:
        """Delete a task (with ``cascade``, its dependents); return the ids deleted."""
        request = tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade)
        response = await self._call("DeleteTask", request, timeout)
        return list(response.deleted_ids) or [response.id or task_id]

    async def task_history(
        self, task_id: str, *, timeout: float | None = None
    ) -> list[TaskEvent]:
        """Return every transition of a task, oldest first."""
        request = tasks_pb2.GetTaskHistoryRequest(id=task_id)
        response = await self._call("GetTaskHistory", request, timeout)
        return [TaskEvent.from_proto(message) for message in response.events]

    async def read_log(
        self,
        task_id: str,
        offset: int = 0,
        max_bytes: int = 0,
        *,
        timeout: float | None = None,
    ) -> tuple[bytes, int, bool]:
        """Return ``(data, next_offset, eof)`` of a task's output from ``offset``."""
        request = tasks_pb2.ReadTaskLogRequest(
            id=task_id, offset=offset, max_bytes=max_bytes
        )
        response = await self._call("ReadTaskLog", request, timeout)
        return bytes(response.data), int(response.next_offset), bool(response.eof)

    async def follow_logs(
        self, task_id: str, offset: int = 0, *, timeout: float | None = None
    ) -> AsyncIterator[bytes]:
        """Yield a task's output as it is written; see TaskQueueClient.follow_logs."""
        request = tasks_pb2.FollowTaskLogRequest(id=task_id, offset=offset)
        deadline = deadline_after(timeout)
        delays = backoff_delays(self.retries)
        while True:
            call = self._tasks.FollowTaskLog(
                request, timeout=time_left(deadline), metadata=self._metadata
            )
            try:
                async for response in call:
                    if response.data:
                        request.offset = response.offset + len(response.data)
                        delays = backoff_delays(self.retries)
                        yield bytes(response.data)
            except grpc.RpcError as exc:
                if deadline is not None and expired(exc):
                    raise TimeoutError(
                        f"Task {task_id} was still writing output after {timeout:g}s."
                    ) from exc
                delay = next(delays, None) if unavailable(exc) else None
                if delay is None:
                    raise from_rpc_error(exc, target=self.target, subject=TASK) from exc
            else:
                return
            finally:
                call.cancel()
            await asyncio.sleep(delay)

    follow_log = follow_logs

    async def watch(
        self,
        task_ids: Iterable[str] = (),
        project_id: str | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[TaskEvent]:
        """Yield task transitions as they are committed; see TaskQueueClient.watch."""
        request = tasks_pb2.WatchEventsRequest(
            task_ids=list(task_ids), project_id=project_id or ""
        )
        deadline = deadline_after(timeout)
        delays = backoff_delays(self.retries)
        while True:
            call = self._tasks.WatchEvents(
                request, timeout=time_left(deadline), metadata=self._metadata
            )
            delivered = False
            try:
                async for response in call:
                    delivered = True
                    yield TaskEvent.from_proto(response.event)
            except grpc.RpcError as exc:
                if deadline is not None and expired(exc):
                    return
                retry = unavailable(exc) and not delivered
                delay = next(delays, None) if retry else None
                if delay is None:
                    raise from_rpc_error(exc, target=self.target) from exc
            else:
                return
            finally:
                call.cancel()
            await asyncio.sleep(delay)

    watch_events = watch

    async def wait(
        self,
        task_id: str,
        timeout: float | None = None,
        *,
        on_change: Callable[[Task], None] | None = None,
        poll_interval: float = MAX_POLL_SECONDS,
    ) -> Task:
        """Poll a task until it is completed, failed or cancelled; return it.

        Raises:
            TimeoutError: The task had not finished after ``timeout`` seconds.
        """
        poll = Poll(TaskWatch(task_id), timeout, on_change, poll_interval)
        while True:
            delay = poll.seen(await self.get_task(task_id))
            if delay is None:
                return poll.record
            await asyncio.sleep(delay)

    # Development workflow

    async def get_development_workflow(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Return a task's development workflow, with what to do next."""
        request = development_pb2.GetDevelopmentWorkflowRequest(task_id=task_id)
        return await self._development("GetDevelopmentWorkflow", request, timeout)

    async def advance_phase(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Move to the next phase when its gate is met."""
        request = development_pb2.AdvancePhaseRequest(task_id=task_id)
        return await self._development("AdvancePhase", request, timeout)

    async def set_technical_documentation(
        self, task_id: str, path: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Record the design document's path, the gate out of planning."""
        request = development_pb2.SetTechnicalDocumentationRequest(
            task_id=task_id, path=path
        )
        return await self._development("SetTechnicalDocumentation", request, timeout)

    async def set_test_coverage(
        self, task_id: str, coverage_percentage: float, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Report test coverage (0 to 100) in testing."""
        request = development_pb2.SetTestCoverageRequest(
            task_id=task_id, coverage_percentage=coverage_percentage
        )
        return await self._development("SetTestCoverage", request, timeout)

    async def add_review(
        self,
        task_id: str,
        model_name: str,
        review_type: str,
        content: str,
        score: float,
        approved: bool,
        suggestions: Iterable[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> DevelopmentWorkflow:
        """Add one AI model's review in ai_review; see TaskQueueClient.add_review."""
        request = review_request(
            task_id, model_name, review_type, content, score, approved, suggestions
        )
        return await self._development("AddReview", request, timeout)

    async def fail_development(
        self, task_id: str, reason: str = "", *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """End the development workflow as failed."""
        request = development_pb2.FailDevelopmentRequest(task_id=task_id, reason=reason)
        return await self._development("FailDevelopment", request, timeout)

    async def reopen_development(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Take a failed or completed workflow back to implementation."""
        request = development_pb2.ReopenDevelopmentRequest(task_id=task_id)
        return await self._development("ReopenDevelopment", request, timeout)

    async def _development(
        self, name: str, request: Any, timeout: float | None
    ) -> DevelopmentWorkflow:
        response = await self._call(name, request, timeout)
        return DevelopmentWorkflow.from_proto(response.workflow)

    # Workflows

    async def create_workflow(
        self,
        document_or_name: Mapping[str, Any] | str,
        tasks: Sequence[Mapping[str, Any]] | None = None,
        project_id: str | None = None,
        description: str = "",
        *,
        timeout: float | None = None,
    ) -> Workflow:
        """Create a workflow; see TaskQueueClient.create_workflow."""
        request = workflow_create(document_or_name, tasks, project_id, description)
        response = await self._call("CreateWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    async def get_workflow(
        self, workflow_id: str, *, view: str = "full", timeout: float | None = None
    ) -> Workflow:
        """Return one workflow with its tasks and edges.

        ``view="basic"`` reads a large workflow at a fraction of the cost:
        each task has only id, name, project_id, status, status_reason,
        attempt, exit_code, started_at, finished_at and blocked_by (the rest
        empty or default), and each edge only its keys and condition.

        Raises:
            ValidationError: ``view`` is neither "full" nor "basic".
        """
        request = workflow_get(workflow_id, view)
        response = await self._call("GetWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    async def list_workflows(
        self,
        project_id: str | None = None,
        limit: int | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Workflow]:
        """Return workflows in creation order, without their tasks and edges."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        return [
            Workflow.from_proto(message)
            async for message in self._each(
                "ListWorkflows", request, "workflows", limit, timeout=timeout
            )
        ]

    async def iter_workflows(
        self,
        project_id: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[Workflow]:
        """Yield workflows in creation order, a page of ``page_size`` at a time."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        async for message in self._each(
            "ListWorkflows", request, "workflows", page_size=page_size, timeout=timeout
        ):
            yield Workflow.from_proto(message)

    async def cancel_workflow(
        self, workflow_id: str, reason: str = "", *, timeout: float | None = None
    ) -> Workflow:
        """Cancel every task of a workflow that has not ended."""
        request = workflows_pb2.CancelWorkflowRequest(id=workflow_id, reason=reason)
        if timeout is None:
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = await self._call("CancelWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    async def retry_workflow(
        self, workflow_id: str, *, timeout: float | None = None
    ) -> Workflow:
        """Run the failed and cancelled tasks again, with all downstream of them."""
        request = workflows_pb2.RetryWorkflowRequest(id=workflow_id)
        response = await self._call("RetryWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    async def wait_workflow(
        self,
        workflow_id: str,
        timeout: float | None = None,
        on_change: Callable[[Workflow], None] | None = None,
        *,
        poll_interval: float = MAX_POLL_SECONDS,
    ) -> Workflow:
        """Poll a workflow until it has ended; see TaskQueueClient.wait_workflow.

        Raises:
            TimeoutError: It had not finished after ``timeout`` seconds.
        """
        poll = Poll(WorkflowWatch(workflow_id), timeout, on_change, poll_interval)
        while True:
            delay = poll.seen(await self.get_workflow(workflow_id))
            if delay is None:
                return poll.record
            await asyncio.sleep(delay)

    # Server

    async def pause_queue(self, *, timeout: float | None = None) -> bool:
        """Stop dispatching new tasks (running ones go on); return True."""
        request = system_pb2.PauseQueueRequest()
        return bool((await self._call("PauseQueue", request, timeout)).paused)

    async def resume_queue(self, *, timeout: float | None = None) -> bool:
        """Dispatch tasks again; return whether the queue is still paused."""
        request = system_pb2.ResumeQueueRequest()
        return bool((await self._call("ResumeQueue", request, timeout)).paused)

    async def stats(self, *, timeout: float | None = None) -> Stats:
        """Return server-wide counts."""
        request = system_pb2.GetStatsRequest()
        return Stats.from_proto(await self._call("GetStats", request, timeout))

    async def activity(
        self, max_events: int = 50, *, timeout: float | None = None
    ) -> Activity:
        """Return finishes per minute over the last hour and the latest events."""
        request = system_pb2.GetActivityRequest(max_events=max_events)
        return Activity.from_proto(await self._call("GetActivity", request, timeout))

    async def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """Return the standard gRPC health status, e.g. "SERVING"."""
        request = health_pb2.HealthCheckRequest(service=service)
        return health_status(await self._call("Check", request, timeout))

    async def ping(self, *, timeout: float | None = None) -> Ping:
        """Make the cheapest round trip; return the server's version and time."""
        started = time.perf_counter()
        response = await self._call("Ping", system_pb2.PingRequest(), timeout)
        return ping_of(response, time.perf_counter() - started)

    # Transport

    async def _call(
        self,
        name: str,
        request: Any,
        timeout: float | None = None,
        *,
        retry: bool | None = None,
    ) -> Any:
        """Make one unary call, retried on UNAVAILABLE when it is safe."""
        rpc = RPCS[name]
        method = getattr(self._stubs[rpc.service], name)
        safe = rpc.idempotent if retry is None else retry
        delays = backoff_delays(self.retries if safe else 0)
        while True:
            try:
                return await method(
                    request,
                    timeout=self.timeout if timeout is None else timeout,
                    metadata=self._metadata,
                )
            except grpc.RpcError as exc:
                delay = next(delays, None) if unavailable(exc) else None
                if delay is None:
                    raise from_rpc_error(
                        exc, target=self.target, subject=rpc.subject
                    ) from exc
            logger.debug("%s: %s unreachable; retry in %.2fs", name, self.target, delay)
            await asyncio.sleep(delay)

    async def _each(
        self,
        name: str,
        request: Any,
        field: str,
        limit: int | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[Any]:
        """Yield the items of every page, at most ``limit`` of them."""
        pages = Pages(request, field, limit, page_size)
        while pages.wanted:
            pages.prepare()
            for item in pages.take(await self._call(name, request, timeout)):
                yield item
