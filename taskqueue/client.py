"""The synchronous Python client of the task queue, over gRPC."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from taskqueue.errors import ValidationError, from_rpc_error
from taskqueue.models import (
    PRIORITY,
    PROJECT_STATUS,
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
from tq_grpc.settings import SettingsError, client_target, load_settings

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
POLL_SECONDS = 0.1
# wait_workflow polls at POLL_SECONDS, doubling up to this while nothing changes.
MAX_POLL_SECONDS = 1.0

# Longer than any sensible SIGTERM grace period of the server.
CANCEL_TIMEOUT_SECONDS = 300.0


class TaskQueueClient:
    """Talk to a task queue server; every method is one or a few gRPC calls.

    Args:
        url: ``grpc://host:port``, ``host:port`` or the server's HTTP URL
            (``http://localhost:16080``, whose gRPC port is the next one).
            None: the address the server's own settings give
            (``TASK_QUEUE_HOST``, ``TASK_QUEUE_GRPC_PORT``, ``config.yml``).
        timeout: Seconds each unary call may take.
        api_key: Sent as ``authorization: Bearer <key>``. None: the
            server's own setting (``TASK_QUEUE_API_KEY``, ``config.yml``).

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
        self._channel = grpc.insecure_channel(
            self.target, options=channel_options(self.target)
        )
        self._tasks = tasks_pb2_grpc.TaskServiceStub(self._channel)
        self._projects = projects_pb2_grpc.ProjectServiceStub(self._channel)
        self._system = system_pb2_grpc.SystemServiceStub(self._channel)
        self._workflows = workflows_pb2_grpc.WorkflowServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        logger.debug("Client for %r created.", self.target)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; the client cannot be used afterwards."""
        self._channel.close()

    # Projects

    def create_project(
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
        response = self._call(self._projects.CreateProject, request)
        return Project.from_proto(response.project)

    def get_project(self, project_id: str) -> Project:
        """Return one project."""
        request = projects_pb2.GetProjectRequest(id=project_id)
        response = self._call(self._projects.GetProject, request)
        return Project.from_proto(response.project)

    def list_projects(self, limit: int | None = None) -> list[Project]:
        """Return the projects, following pages until ``limit`` or the end."""
        request = projects_pb2.ListProjectsRequest()
        found = self._pages(self._projects.ListProjects, request, "projects", limit)
        return [Project.from_proto(message) for message in found]

    def update_project(
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
    ) -> Project:
        """Change the fields given; the others keep their value."""
        request = projects_pb2.UpdateProjectRequest(
            id=project_id,
            name=name,
            description=description,
            status=PROJECT_STATUS.to_proto(status) if status else None,
            parent_id=parent_id,
            max_parallel=max_parallel,
            coverage_threshold=coverage_threshold,
            required_reviews=required_reviews,
        )
        if tags is not None:
            request.tags.extend(tags)
            request.update_tags = True
        response = self._call(self._projects.UpdateProject, request)
        return Project.from_proto(response.project)

    def delete_project(self, project_id: str, cascade: bool = False) -> int:
        """Delete a project, and its tasks when ``cascade``; return how many."""
        request = projects_pb2.DeleteProjectRequest(id=project_id, cascade=cascade)
        response = self._call(self._projects.DeleteProject, request)
        return int(response.deleted_tasks)

    def list_project_tasks(
        self, project_id: str, status: str | None = None, limit: int | None = None
    ) -> list[Task]:
        """Return the tasks of one project, optionally of one status."""
        request = projects_pb2.ListProjectTasksRequest(
            id=project_id, status=TASK_STATUS.to_filter(status)
        )
        found = self._pages(self._projects.ListProjectTasks, request, "tasks", limit)
        return [Task.from_proto(message) for message in found]

    # Tasks

    def create_task(
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
        """Create a task; it runs once it is ready and a slot is free.

        An empty ``command`` makes a tracking-only task. ``working_dir``
        None lets the server choose; ``timeout_seconds`` 0 means no timeout.

        ``depends_on`` lists the tasks to wait for: each a task id (it must
        complete), a ``(task_id, condition)`` pair, a ``{"task_id",
        "condition"}`` dict or a ``Dependency``; condition is "success",
        "failure" or "completion". A failed run is retried up to
        ``max_retries`` times, the first retry ``retry_delay_seconds`` later.
        ``start_after`` (an aware ``datetime`` or RFC 3339 text with an
        offset) holds the task back until then.

        Raises:
            ValidationError: also client-side, for a naive ``start_after``
                or a dependency that cannot be read.
        """
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
        response = self._call(self._tasks.CreateTask, request)
        return Task.from_proto(response.task)

    def create_tasks(self, specs: Iterable[Mapping[str, Any]]) -> list[Task]:
        """Create tasks in one atomic write; dicts take create_task's arguments."""
        request = tasks_pb2.BatchCreateTasksRequest(
            tasks=[task_spec(**spec) for spec in specs]
        )
        response = self._call(self._tasks.BatchCreateTasks, request)
        return [Task.from_proto(message) for message in response.tasks]

    def get_task(self, task_id: str) -> Task:
        """Return one task."""
        response = self._call(self._tasks.GetTask, tasks_pb2.GetTaskRequest(id=task_id))
        return Task.from_proto(response.task)

    def list_tasks(
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
        found = self._pages(self._tasks.ListTasks, request, "tasks", limit)
        return [Task.from_proto(message) for message in found]

    def update_task(
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
        """Change the fields given of a pending task.

        ``env``, ``tags`` and ``depends_on`` replace the whole value (an
        empty one clears it; a change closing a cycle is refused);
        ``clear_start_after`` removes a delayed start.
        """
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
        response = self._call(self._tasks.UpdateTask, request)
        return Task.from_proto(response.task)

    def cancel_task(self, task_id: str, reason: str = "") -> Task:
        """Cancel a task; a running one has its process group killed.

        The server answers once the group is gone, which can take the whole
        SIGTERM grace period; the call waits at least CANCEL_TIMEOUT_SECONDS.
        """
        request = tasks_pb2.CancelTaskRequest(id=task_id, reason=reason)
        timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = self._call(self._tasks.CancelTask, request, timeout=timeout)
        return Task.from_proto(response.task)

    def retry_task(self, task_id: str) -> Task:
        """Start the next attempt of a finished task."""
        request = tasks_pb2.RetryTaskRequest(id=task_id)
        response = self._call(self._tasks.RetryTask, request)
        return Task.from_proto(response.task)

    def delete_task(self, task_id: str, cascade: bool = False) -> list[str]:
        """Delete a task and its history; return the ids deleted, it first.

        With ``cascade`` every task depending on it, transitively, goes too.

        Raises:
            ConflictError: other tasks depend on it and ``cascade`` is False.
        """
        request = tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade)
        response = self._call(self._tasks.DeleteTask, request)
        return list(response.deleted_ids) or [response.id or task_id]

    def task_history(self, task_id: str) -> list[TaskEvent]:
        """Return every transition of a task, oldest first."""
        request = tasks_pb2.GetTaskHistoryRequest(id=task_id)
        response = self._call(self._tasks.GetTaskHistory, request)
        return [TaskEvent.from_proto(message) for message in response.events]

    def read_log(
        self, task_id: str, offset: int = 0, max_bytes: int = 0
    ) -> tuple[bytes, int, bool]:
        """Return ``(data, next_offset, eof)`` of a task's output from ``offset``."""
        request = tasks_pb2.ReadTaskLogRequest(
            id=task_id, offset=offset, max_bytes=max_bytes
        )
        response = self._call(self._tasks.ReadTaskLog, request)
        return bytes(response.data), int(response.next_offset), bool(response.eof)

    def follow_log(self, task_id: str, offset: int = 0) -> Iterator[bytes]:
        """Yield a task's output as it is written, until the task has ended."""
        request = tasks_pb2.FollowTaskLogRequest(id=task_id, offset=offset)
        for response in self._stream(self._tasks.FollowTaskLog, request):
            if response.data:
                yield bytes(response.data)

    def watch_events(
        self, task_ids: Iterable[str] = (), project_id: str | None = None
    ) -> Iterator[TaskEvent]:
        """Yield task transitions as the server commits them."""
        request = tasks_pb2.WatchEventsRequest(
            task_ids=list(task_ids), project_id=project_id or ""
        )
        for response in self._stream(self._tasks.WatchEvents, request):
            yield TaskEvent.from_proto(response.event)

    def wait(self, task_id: str, timeout: float | None = None) -> Task:
        """Poll a task until it is completed, failed or cancelled; return it.

        Raises:
            TimeoutError: The task had not finished after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            task = self.get_task(task_id)
            if task.finished:
                return task
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Task {task_id} is still {task.status} after {timeout:g}s."
                )
            time.sleep(POLL_SECONDS)

    # Workflows

    def create_workflow(
        self,
        document_or_name: Mapping[str, Any] | str,
        tasks: Sequence[Mapping[str, Any]] | None = None,
        project_id: str | None = None,
        description: str = "",
    ) -> Workflow:
        """Create a workflow's tasks in one atomic write; return it.

        ``document_or_name`` is the workflow document as a dict (name,
        tasks, optional description and project_id; the shape of
        ``examples/workflow.yaml``), or the name with ``tasks`` given apart.
        Each task is a dict with a unique ``key``, the fields of
        create_task and ``depends_on``: keys of other tasks (or ``{"key",
        "condition"}``) and ``{"task_id", "condition"}`` for tasks outside.

        Raises:
            ValidationError: naming the field (e.g. ``tasks[1].comand``),
                client-side for unknown or ill-typed fields, else from the
                server (duplicate keys, a cycle, an unknown key).
        """
        request = workflow_create(document_or_name, tasks, project_id, description)
        response = self._call(self._workflows.CreateWorkflow, request)
        return Workflow.from_proto(response.workflow)

    def get_workflow(self, workflow_id: str) -> Workflow:
        """Return one workflow with its tasks and edges."""
        request = workflows_pb2.GetWorkflowRequest(id=workflow_id)
        response = self._call(self._workflows.GetWorkflow, request)
        return Workflow.from_proto(response.workflow)

    def list_workflows(
        self, project_id: str | None = None, limit: int | None = None
    ) -> list[Workflow]:
        """Return workflows in creation order, without their tasks and edges."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        found = self._pages(self._workflows.ListWorkflows, request, "workflows", limit)
        return [Workflow.from_proto(message) for message in found]

    def cancel_workflow(self, workflow_id: str, reason: str = "") -> Workflow:
        """Cancel every task of a workflow that has not ended.

        Like cancel_task, the server answers once running processes are
        gone; the call waits at least CANCEL_TIMEOUT_SECONDS.

        Raises:
            ConflictError: every task of the workflow has already ended.
        """
        request = workflows_pb2.CancelWorkflowRequest(id=workflow_id, reason=reason)
        timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = self._call(self._workflows.CancelWorkflow, request, timeout=timeout)
        return Workflow.from_proto(response.workflow)

    def retry_workflow(self, workflow_id: str) -> Workflow:
        """Run the failed and cancelled tasks again, with all downstream of them."""
        request = workflows_pb2.RetryWorkflowRequest(id=workflow_id)
        response = self._call(self._workflows.RetryWorkflow, request)
        return Workflow.from_proto(response.workflow)

    def wait_workflow(
        self,
        workflow_id: str,
        timeout: float | None = None,
        on_change: Callable[[Workflow], None] | None = None,
    ) -> Workflow:
        """Poll a workflow until it is completed, failed or cancelled; return it.

        Polls every POLL_SECONDS while it changes, backing off to
        MAX_POLL_SECONDS while it does not. ``on_change`` is called with
        the workflow first and whenever its status or progress changed.

        Raises:
            TimeoutError: It had not finished after ``timeout`` seconds.
        """
        poll = WorkflowPoll(workflow_id, timeout, on_change)
        while True:
            delay = poll.seen(self.get_workflow(workflow_id))
            if delay is None:
                return poll.workflow
            time.sleep(delay)

    # Server

    def pause_queue(self) -> bool:
        """Stop dispatching new tasks (running ones go on); return True.

        The pause is kept across server restarts until resume_queue.
        """
        request = system_pb2.PauseQueueRequest()
        return bool(self._call(self._system.PauseQueue, request).paused)

    def resume_queue(self) -> bool:
        """Dispatch tasks again; return whether the queue is still paused."""
        request = system_pb2.ResumeQueueRequest()
        return bool(self._call(self._system.ResumeQueue, request).paused)

    def stats(self) -> Stats:
        """Return server-wide counts."""
        response = self._call(self._system.GetStats, system_pb2.GetStatsRequest())
        return Stats.from_proto(response)

    def health(self, service: str = "") -> str:
        """Return the standard gRPC health status, e.g. "SERVING"."""
        request = health_pb2.HealthCheckRequest(service=service)
        response = self._call(self._health.Check, request)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    def ping(self) -> Ping:
        """Make the cheapest round trip; return the server's version and time."""
        started = time.perf_counter()
        response = self._call(self._system.Ping, system_pb2.PingRequest())
        round_trip_seconds = time.perf_counter() - started

        server_time = None
        if response.HasField("server_time"):
            server_time = response.server_time.ToDatetime(tzinfo=UTC)
        return Ping(response.version, server_time, round_trip_seconds)

    # Transport

    def _call(
        self, method: Callable[..., Any], request: Any, timeout: float | None = None
    ) -> Any:
        try:
            return method(
                request, timeout=timeout or self.timeout, metadata=self._metadata
            )
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, target=self.target) from exc

    def _stream(self, method: Callable[..., Any], request: Any) -> Iterator[Any]:
        call = method(request, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, target=self.target) from exc
        finally:
            call.cancel()

    def _pages(
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
            response = self._call(method, request)
            found.extend(getattr(response, field))

            done = limit is not None and len(found) >= limit
            if done or not response.next_page_token:
                return found[:limit]
            request.page_token = response.next_page_token


class WorkflowPoll:
    """What wait_workflow remembers between polls; shared by both clients."""

    def __init__(
        self,
        workflow_id: str,
        timeout: float | None,
        on_change: Callable[[Workflow], None] | None,
    ) -> None:
        self.workflow_id = workflow_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.on_change = on_change
        self.delay = POLL_SECONDS
        self.state: tuple[str, Any] | None = None
        self._workflow: Workflow | None = None

    @property
    def workflow(self) -> Workflow:
        """Return the workflow as last seen."""
        assert self._workflow is not None
        return self._workflow

    def seen(self, workflow: Workflow) -> float | None:
        """Take a polled workflow; return seconds to sleep, or None when done.

        Raises:
            TimeoutError: the deadline passed and the workflow goes on.
        """
        self._workflow = workflow
        state = (workflow.status, workflow.progress)
        if state != self.state:
            self.state = state
            self.delay = POLL_SECONDS
            if self.on_change is not None:
                self.on_change(workflow)
        else:
            self.delay = min(self.delay * 2, MAX_POLL_SECONDS)
        if workflow.finished:
            return None
        if self.deadline is None:
            return self.delay
        left = self.deadline - time.monotonic()
        if left <= 0:
            progress = workflow.progress
            raise TimeoutError(
                f"Workflow {self.workflow_id} is still {workflow.status} after "
                f"{self.timeout:g}s ({progress.ended} of {progress.total} "
                "tasks ended)."
            )
        return min(self.delay, left)


def channel_options(target: str) -> list[tuple[str, Any]]:
    """Return channel options for a target: no proxy for loopback addresses."""
    # An http_proxy meant for the internet must not capture loopback traffic.
    host = target.rpartition(":")[0].strip("[]")
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    return [("grpc.enable_http_proxy", 0)] if loopback else []


def resolve_target(url: str | None, api_key: str | None) -> tuple[str, str | None]:
    """Return the target and API key, falling back on the server's settings."""
    try:
        settings = load_settings()
        return client_target(url, settings), api_key or settings.api_key or None
    except SettingsError as exc:
        raise ValidationError(str(exc)) from exc
    except ValueError as exc:
        raise ValidationError(f"{url!r} is not a server URL: {exc}.") from exc
