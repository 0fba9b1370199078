"""The synchronous Python client of the task queue, over gRPC.

The pieces both clients share live here too: the table of calls with their
retry policy (``RPCS``), the back-off, the polling of ``wait`` and
``wait_workflow``, and how a URL becomes a gRPC target.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from taskqueue.errors import ValidationError, from_rpc_error
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
    development_pb2_grpc,
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

# The server's own bound for one page.
MAX_PAGE_SIZE = 1000
# wait and wait_workflow poll this often while the record changes, backing
# off (doubling) to MAX_POLL_SECONDS while it does not.
POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 1.0

# Longer than any sensible SIGTERM grace period of the server.
CANCEL_TIMEOUT_SECONDS = 300.0

DEFAULT_TIMEOUT_SECONDS = 30.0
# Retries of a call the server could not be reached for (UNAVAILABLE): the
# first after about RETRY_BACKOFF_SECONDS, each next one twice as late, at
# most RETRY_MAX_BACKOFF_SECONDS, each delay jittered by ±20%.
DEFAULT_RETRIES = 3
RETRY_BACKOFF_SECONDS = 0.25
RETRY_MAX_BACKOFF_SECONDS = 4.0

# What a call is about, for the errors of an id that is not a UUID.
TASK, PROJECT, WORKFLOW = "task", "project", "workflow"


@dataclass(frozen=True, slots=True)
class Rpc:
    """One unary call of the API and whether repeating it is always safe."""

    service: str
    subject: str | None
    # Repeating it cannot change anything twice: retried on UNAVAILABLE.
    idempotent: bool


# Every unary call the clients make. Reads, and the pause and resume flags,
# are retried on UNAVAILABLE. Creates are retried only when every task
# carries an idempotency key (the server then answers a repeat with the task
# it made the first time); the other writes (update, cancel, delete, retry,
# the development workflow's steps, project and workflow creation) are
# never retried, since the first attempt may have reached the server.
RPCS: dict[str, Rpc] = {
    # TaskService
    "CreateTask": Rpc("tasks", TASK, idempotent=False),
    "BatchCreateTasks": Rpc("tasks", TASK, idempotent=False),
    "GetTask": Rpc("tasks", TASK, idempotent=True),
    "ListTasks": Rpc("tasks", None, idempotent=True),
    "UpdateTask": Rpc("tasks", TASK, idempotent=False),
    "DeleteTask": Rpc("tasks", TASK, idempotent=False),
    "CancelTask": Rpc("tasks", TASK, idempotent=False),
    "RetryTask": Rpc("tasks", TASK, idempotent=False),
    "GetTaskHistory": Rpc("tasks", TASK, idempotent=True),
    "ReadTaskLog": Rpc("tasks", TASK, idempotent=True),
    # ProjectService
    "CreateProject": Rpc("projects", PROJECT, idempotent=False),
    "GetProject": Rpc("projects", PROJECT, idempotent=True),
    "ListProjects": Rpc("projects", None, idempotent=True),
    "UpdateProject": Rpc("projects", PROJECT, idempotent=False),
    "DeleteProject": Rpc("projects", PROJECT, idempotent=False),
    "ListProjectTasks": Rpc("projects", PROJECT, idempotent=True),
    # WorkflowService
    "CreateWorkflow": Rpc("workflows", WORKFLOW, idempotent=False),
    "GetWorkflow": Rpc("workflows", WORKFLOW, idempotent=True),
    "ListWorkflows": Rpc("workflows", None, idempotent=True),
    "CancelWorkflow": Rpc("workflows", WORKFLOW, idempotent=False),
    "RetryWorkflow": Rpc("workflows", WORKFLOW, idempotent=False),
    # DevelopmentService
    "GetDevelopmentWorkflow": Rpc("development", TASK, idempotent=True),
    "AdvancePhase": Rpc("development", TASK, idempotent=False),
    "SetTechnicalDocumentation": Rpc("development", TASK, idempotent=False),
    "SetTestCoverage": Rpc("development", TASK, idempotent=False),
    "AddReview": Rpc("development", TASK, idempotent=False),
    "FailDevelopment": Rpc("development", TASK, idempotent=False),
    "ReopenDevelopment": Rpc("development", TASK, idempotent=False),
    # SystemService and the standard health service
    "GetStats": Rpc("system", None, idempotent=True),
    "GetActivity": Rpc("system", None, idempotent=True),
    "Ping": Rpc("system", None, idempotent=True),
    "PauseQueue": Rpc("system", None, idempotent=True),
    "ResumeQueue": Rpc("system", None, idempotent=True),
    "Check": Rpc("health", None, idempotent=True),
}


def make_stubs(channel: Any) -> dict[str, Any]:
    """Return the stub of every service on a (sync or asyncio) channel."""
    return {
        "tasks": tasks_pb2_grpc.TaskServiceStub(channel),
        "projects": projects_pb2_grpc.ProjectServiceStub(channel),
        "workflows": workflows_pb2_grpc.WorkflowServiceStub(channel),
        "development": development_pb2_grpc.DevelopmentServiceStub(channel),
        "system": system_pb2_grpc.SystemServiceStub(channel),
        "health": health_pb2_grpc.HealthStub(channel),
    }


def backoff_delays(retries: int) -> Iterator[float]:
    """Yield the pause before each of ``retries`` retries, jittered ±20%."""
    delay = RETRY_BACKOFF_SECONDS
    for _ in range(retries):
        yield delay * random.uniform(0.8, 1.2)  # noqa: S311 - not cryptography
        delay = min(delay * 2, RETRY_MAX_BACKOFF_SECONDS)


def unavailable(error: grpc.RpcError) -> bool:
    """Return whether a failed call is one to retry: the server was unreachable."""
    code = getattr(error, "code", None)
    return callable(code) and code() is grpc.StatusCode.UNAVAILABLE


def expired(error: grpc.RpcError) -> bool:
    """Return whether a call ended because its deadline passed."""
    code = getattr(error, "code", None)
    return callable(code) and code() is grpc.StatusCode.DEADLINE_EXCEEDED


def check_client_options(timeout: float, retries: int) -> None:
    """Raise ValidationError for a timeout or retry count that cannot work."""
    if not timeout > 0:
        raise ValidationError(f"timeout: {timeout!r} must be more than 0 seconds.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValidationError(f"retries: {retries!r} must be a whole number >= 0.")


def all_keyed(specs: Sequence[Mapping[str, Any]]) -> bool:
    """Return whether every task spec carries an idempotency key."""
    return bool(specs) and all(spec.get("idempotency_key") for spec in specs)


class TaskQueueClient:
    """Talk to a task queue server; every method is one or a few gRPC calls.

    Args:
        url: ``grpc://host:port``, ``host:port`` or the server's HTTP URL
            (``http://localhost:16080``), whose gRPC port is
            ``TASK_QUEUE_GRPC_PORT`` when set, else the next one.
            None: the address the server's own settings give
            (``TASK_QUEUE_HOST``, ``TASK_QUEUE_GRPC_PORT``, ``config.yml``).
        timeout: Seconds each call may take unless the call is given its
            own ``timeout=``.
        api_key: Sent as ``authorization: Bearer <key>``. None: the
            server's own setting (``TASK_QUEUE_API_KEY``, ``config.yml``).
        retries: How many times a call the server could not be reached for
            (UNAVAILABLE) is tried again, with back-off; see ``RPCS`` for
            which calls are safe to repeat. 0 turns retries off.

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
        self._channel = grpc.insecure_channel(
            self.target, options=channel_options(self.target)
        )
        self._stubs = make_stubs(self._channel)
        self._tasks: tasks_pb2_grpc.TaskServiceStub = self._stubs["tasks"]
        logger.debug("Client for %r created.", self.target)

    def __repr__(self) -> str:
        return f"TaskQueueClient({self.target!r})"

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
        timeout: float | None = None,
    ) -> Project:
        """Create a project; ``status`` defaults to "active" on the server.

        ``coverage_threshold`` (percent, default 90) and ``required_reviews``
        (default 3) are the gates of its tasks' development workflow.
        """
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
        response = self._call("CreateProject", request, timeout)
        return Project.from_proto(response.project)

    def get_project(self, project_id: str, *, timeout: float | None = None) -> Project:
        """Return one project."""
        request = projects_pb2.GetProjectRequest(id=project_id)
        response = self._call("GetProject", request, timeout)
        return Project.from_proto(response.project)

    def list_projects(
        self, limit: int | None = None, *, timeout: float | None = None
    ) -> list[Project]:
        """Return the projects, following pages until ``limit`` or the end."""
        request = projects_pb2.ListProjectsRequest()
        found = self._each("ListProjects", request, "projects", limit, timeout=timeout)
        return [Project.from_proto(message) for message in found]

    def iter_projects(
        self, *, page_size: int = MAX_PAGE_SIZE, timeout: float | None = None
    ) -> Iterator[Project]:
        """Yield every project, fetching a page of ``page_size`` at a time."""
        request = projects_pb2.ListProjectsRequest()
        for message in self._each(
            "ListProjects", request, "projects", page_size=page_size, timeout=timeout
        ):
            yield Project.from_proto(message)

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
        response = self._call("UpdateProject", request, timeout)
        return Project.from_proto(response.project)

    def delete_project(
        self, project_id: str, cascade: bool = False, *, timeout: float | None = None
    ) -> int:
        """Delete a project, and its tasks when ``cascade``; return how many.

        Raises:
            ConflictError: the project has tasks and ``cascade`` is False.
        """
        request = projects_pb2.DeleteProjectRequest(id=project_id, cascade=cascade)
        if timeout is None and cascade:
            # Running tasks are cancelled first: as long as a cancel may take.
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = self._call("DeleteProject", request, timeout)
        return int(response.deleted_tasks)

    def list_project_tasks(
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
        found = self._each("ListProjectTasks", request, "tasks", limit, timeout=timeout)
        return [Task.from_proto(message) for message in found]

    def iter_project_tasks(
        self,
        project_id: str,
        status: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> Iterator[Task]:
        """Yield the tasks of one project, a page of ``page_size`` at a time."""
        request = projects_pb2.ListProjectTasksRequest(
            id=project_id, status=TASK_STATUS.to_filter(status)
        )
        for message in self._each(
            "ListProjectTasks", request, "tasks", page_size=page_size, timeout=timeout
        ):
            yield Task.from_proto(message)

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
        timeout: float | None = None,
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
        offset) holds the task back until then. ``development_workflow``
        puts the task under the gated five-phase development workflow (its
        command then runs as the test run when it enters testing).

        With an ``idempotency_key`` a repeat of the same call answers the
        task the first one made, so the call is retried when the server
        cannot be reached; without one it is not.

        Raises:
            ValidationError: also client-side, for a naive ``start_after``
                or a dependency that cannot be read.
            ConflictError: the key was used for a task with other fields.
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
        response = self._call(
            "CreateTask", request, timeout, retry=bool(idempotency_key)
        )
        return Task.from_proto(response.task)

    def create_tasks(
        self, specs: Iterable[Mapping[str, Any]], *, timeout: float | None = None
    ) -> list[Task]:
        """Create tasks in one atomic write; dicts take create_task's arguments.

        Retried when the server cannot be reached only if every task has an
        ``idempotency_key``.
        """
        specs = list(specs)
        request = tasks_pb2.BatchCreateTasksRequest(
            tasks=[task_spec(**spec) for spec in specs]
        )
        response = self._call(
            "BatchCreateTasks", request, timeout, retry=all_keyed(specs)
        )
        return [Task.from_proto(message) for message in response.tasks]

    def get_task(self, task_id: str, *, timeout: float | None = None) -> Task:
        """Return one task.

        Raises:
            TaskNotFoundError: no task has this id (InvalidTaskIdError, also
                a ValidationError, when the id is not even a UUID).
        """
        request = tasks_pb2.GetTaskRequest(id=task_id)
        response = self._call("GetTask", request, timeout)
        return Task.from_proto(response.task)

    def list_tasks(
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
        found = self._each("ListTasks", request, "tasks", limit, timeout=timeout)
        return [Task.from_proto(message) for message in found]

    def iter_tasks(
        self,
        status: str | None = None,
        project_id: str | None = None,
        priority: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> Iterator[Task]:
        """Yield tasks in creation order, fetching ``page_size`` at a time.

        Pages are fetched as the loop reaches them, so the first tasks come
        before the last page is read; ``timeout`` bounds each page's call.
        """
        request = tasks_pb2.ListTasksRequest(
            status=TASK_STATUS.to_filter(status),
            project_id=project_id or "",
            priority=PRIORITY.to_filter(priority),
        )
        for message in self._each(
            "ListTasks", request, "tasks", page_size=page_size, timeout=timeout
        ):
            yield Task.from_proto(message)

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
        timeout: float | None = None,
    ) -> Task:
        """Change the fields given of a task that has not started.

        ``env``, ``tags`` and ``depends_on`` replace the whole value (an
        empty one clears it; a change closing a cycle is refused);
        ``clear_start_after`` removes a delayed start.

        Raises:
            ConflictError: the task is running or has ended.
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
        response = self._call("UpdateTask", request, timeout)
        return Task.from_proto(response.task)

    def cancel_task(
        self, task_id: str, reason: str = "", *, timeout: float | None = None
    ) -> Task:
        """Cancel a task; a running one has its process group killed.

        The server answers once the group is gone, which can take the whole
        SIGTERM grace period; without ``timeout`` the call waits at least
        CANCEL_TIMEOUT_SECONDS.

        Raises:
            ConflictError: the task has already ended.
        """
        request = tasks_pb2.CancelTaskRequest(id=task_id, reason=reason)
        if timeout is None:
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = self._call("CancelTask", request, timeout)
        return Task.from_proto(response.task)

    def retry_task(self, task_id: str, *, timeout: float | None = None) -> Task:
        """Start the next attempt of a finished task."""
        request = tasks_pb2.RetryTaskRequest(id=task_id)
        response = self._call("RetryTask", request, timeout)
        return Task.from_proto(response.task)

    def delete_task(
        self, task_id: str, cascade: bool = False, *, timeout: float | None = None
    ) -> list[str]:
        """Delete a task and its history; return the ids deleted, it first.

        With ``cascade`` every task depending on it, transitively, goes too.

        Raises:
            ConflictError: other tasks depend on it and ``cascade`` is False.
        """
        request = tasks_pb2.DeleteTaskRequest(id=task_id, cascade=cascade)
        response = self._call("DeleteTask", request, timeout)
        return list(response.deleted_ids) or [response.id or task_id]

    def task_history(
        self, task_id: str, *, timeout: float | None = None
    ) -> list[TaskEvent]:
        """Return every transition of a task, oldest first."""
        request = tasks_pb2.GetTaskHistoryRequest(id=task_id)
        response = self._call("GetTaskHistory", request, timeout)
        return [TaskEvent.from_proto(message) for message in response.events]

    def read_log(
        self,
        task_id: str,
        offset: int = 0,
        max_bytes: int = 0,
        *,
        timeout: float | None = None,
    ) -> tuple[bytes, int, bool]:
        """Return ``(data, next_offset, eof)`` of a task's output from ``offset``.

        At most ``max_bytes`` (default and most: 1 MiB) come back at once;
        ``eof`` is True once the task has ended and nothing lies beyond.
        """
        request = tasks_pb2.ReadTaskLogRequest(
            id=task_id, offset=offset, max_bytes=max_bytes
        )
        response = self._call("ReadTaskLog", request, timeout)
        return bytes(response.data), int(response.next_offset), bool(response.eof)

    def follow_logs(
        self, task_id: str, offset: int = 0, *, timeout: float | None = None
    ) -> Iterator[bytes]:
        """Yield a task's output as it is written, until the task has ended.

        Starts at byte ``offset``. When the connection drops (UNAVAILABLE)
        the stream is opened again after a back-off where it stopped, up
        to ``retries`` times in a row. ``timeout`` bounds the whole stream
        (default: none): after it, TimeoutError.
        """
        request = tasks_pb2.FollowTaskLogRequest(id=task_id, offset=offset)
        deadline = deadline_after(timeout)
        delays = backoff_delays(self.retries)
        while True:
            call = self._tasks.FollowTaskLog(
                request, timeout=time_left(deadline), metadata=self._metadata
            )
            try:
                for response in call:
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
                logger.debug("FollowTaskLog: reconnecting in %.2fs", delay)
            else:
                return
            finally:
                call.cancel()
            time.sleep(delay)

    follow_log = follow_logs

    def watch(
        self,
        task_ids: Iterable[str] = (),
        project_id: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[TaskEvent]:
        """Yield task transitions as the server commits them; never ends itself.

        Only events of ``task_ids`` (all tasks when empty) and of
        ``project_id`` (all projects when None). Opening the stream is
        retried while the server cannot be reached; once events have come,
        a dropped stream raises ConnectionError, since events in between
        would be lost: watch again and read the tasks afresh. With
        ``timeout`` the iteration ends quietly after that many seconds;
        without, break out of the loop to stop watching.
        """
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
                for response in call:
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
            time.sleep(delay)

    watch_events = watch

    def wait(
        self,
        task_id: str,
        timeout: float | None = None,
        *,
        on_change: Callable[[Task], None] | None = None,
        poll_interval: float = MAX_POLL_SECONDS,
    ) -> Task:
        """Poll a task until it is completed, failed or cancelled; return it.

        Polls every POLL_SECONDS while the task changes, backing off to
        ``poll_interval`` while it does not. ``on_change`` is called with
        the task first and whenever its status or attempt changed.

        Raises:
            TimeoutError: The task had not finished after ``timeout`` seconds.
        """
        poll = Poll(TaskWatch(task_id), timeout, on_change, poll_interval)
        while True:
            delay = poll.seen(self.get_task(task_id))
            if delay is None:
                return poll.record
            time.sleep(delay)

    # Development workflow

    def get_development_workflow(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Return a task's development workflow, with what to do next.

        Raises:
            ConflictError: the task is not under the development workflow.
        """
        request = development_pb2.GetDevelopmentWorkflowRequest(task_id=task_id)
        return self._development("GetDevelopmentWorkflow", request, timeout)

    def advance_phase(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Move to the next phase; entering testing runs the task's command.

        Raises:
            ConflictError: a gate is unmet; the message names it (see
                ``DevelopmentWorkflow.unmet_gates``).
        """
        request = development_pb2.AdvancePhaseRequest(task_id=task_id)
        return self._development("AdvancePhase", request, timeout)

    def set_technical_documentation(
        self, task_id: str, path: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Record the design document's path, the gate out of planning."""
        request = development_pb2.SetTechnicalDocumentationRequest(
            task_id=task_id, path=path
        )
        return self._development("SetTechnicalDocumentation", request, timeout)

    def set_test_coverage(
        self, task_id: str, coverage_percentage: float, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Report test coverage (0 to 100) in testing; one gate out of it."""
        request = development_pb2.SetTestCoverageRequest(
            task_id=task_id, coverage_percentage=coverage_percentage
        )
        return self._development("SetTestCoverage", request, timeout)

    def add_review(
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
        """Add one AI model's review in ai_review.

        ``review_type`` is one of REVIEW_TYPES ("code_quality", "security",
        "performance", "documentation", "testing", "architecture"); ``score``
        runs from 0 to 1. Approvals from the project's required number of
        distinct models open the way to completed; a rejection sends the
        task back to implementation in a new review round.
        """
        request = review_request(
            task_id, model_name, review_type, content, score, approved, suggestions
        )
        return self._development("AddReview", request, timeout)

    def fail_development(
        self, task_id: str, reason: str = "", *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """End the development workflow as failed, from any phase before completed."""
        request = development_pb2.FailDevelopmentRequest(task_id=task_id, reason=reason)
        return self._development("FailDevelopment", request, timeout)

    def reopen_development(
        self, task_id: str, *, timeout: float | None = None
    ) -> DevelopmentWorkflow:
        """Take a failed or completed workflow back to implementation."""
        request = development_pb2.ReopenDevelopmentRequest(task_id=task_id)
        return self._development("ReopenDevelopment", request, timeout)

    def _development(
        self, name: str, request: Any, timeout: float | None
    ) -> DevelopmentWorkflow:
        response = self._call(name, request, timeout)
        return DevelopmentWorkflow.from_proto(response.workflow)

    # Workflows

    def create_workflow(
        self,
        document_or_name: Mapping[str, Any] | str,
        tasks: Sequence[Mapping[str, Any]] | None = None,
        project_id: str | None = None,
        description: str = "",
        *,
        timeout: float | None = None,
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
        response = self._call("CreateWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    def get_workflow(
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
        response = self._call("GetWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    def list_workflows(
        self,
        project_id: str | None = None,
        limit: int | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Workflow]:
        """Return workflows in creation order, without their tasks and edges."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        found = self._each(
            "ListWorkflows", request, "workflows", limit, timeout=timeout
        )
        return [Workflow.from_proto(message) for message in found]

    def iter_workflows(
        self,
        project_id: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> Iterator[Workflow]:
        """Yield workflows in creation order, a page of ``page_size`` at a time."""
        request = workflows_pb2.ListWorkflowsRequest(project_id=project_id or "")
        for message in self._each(
            "ListWorkflows", request, "workflows", page_size=page_size, timeout=timeout
        ):
            yield Workflow.from_proto(message)

    def cancel_workflow(
        self, workflow_id: str, reason: str = "", *, timeout: float | None = None
    ) -> Workflow:
        """Cancel every task of a workflow that has not ended.

        Like cancel_task, the server answers once running processes are
        gone; without ``timeout`` the call waits at least
        CANCEL_TIMEOUT_SECONDS.

        Raises:
            ConflictError: every task of the workflow has already ended.
        """
        request = workflows_pb2.CancelWorkflowRequest(id=workflow_id, reason=reason)
        if timeout is None:
            timeout = max(self.timeout, CANCEL_TIMEOUT_SECONDS)
        response = self._call("CancelWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    def retry_workflow(
        self, workflow_id: str, *, timeout: float | None = None
    ) -> Workflow:
        """Run the failed and cancelled tasks again, with all downstream of them."""
        request = workflows_pb2.RetryWorkflowRequest(id=workflow_id)
        response = self._call("RetryWorkflow", request, timeout)
        return Workflow.from_proto(response.workflow)

    def wait_workflow(
        self,
        workflow_id: str,
        timeout: float | None = None,
        on_change: Callable[[Workflow], None] | None = None,
        *,
        poll_interval: float = MAX_POLL_SECONDS,
    ) -> Workflow:
        """Poll a workflow until it is completed, failed or cancelled; return it.

        Polls every POLL_SECONDS while it changes, backing off to
        ``poll_interval`` while it does not. ``on_change`` is called with
        the workflow first and whenever its status or progress changed.

        Raises:
            TimeoutError: It had not finished after ``timeout`` seconds.
        """
        poll = Poll(WorkflowWatch(workflow_id), timeout, on_change, poll_interval)
        while True:
            delay = poll.seen(self.get_workflow(workflow_id))
            if delay is None:
                return poll.record
            time.sleep(delay)

    # Server

    def pause_queue(self, *, timeout: float | None = None) -> bool:
        """Stop dispatching new tasks (running ones go on); return True.

        The pause is kept across server restarts until resume_queue.
        """
        request = system_pb2.PauseQueueRequest()
        return bool(self._call("PauseQueue", request, timeout).paused)

    def resume_queue(self, *, timeout: float | None = None) -> bool:
        """Dispatch tasks again; return whether the queue is still paused."""
        request = system_pb2.ResumeQueueRequest()
        return bool(self._call("ResumeQueue", request, timeout).paused)

    def stats(self, *, timeout: float | None = None) -> Stats:
        """Return server-wide counts."""
        response = self._call("GetStats", system_pb2.GetStatsRequest(), timeout)
        return Stats.from_proto(response)

    def activity(
        self, max_events: int = 50, *, timeout: float | None = None
    ) -> Activity:
        """Return finishes per minute over the last hour and the latest events."""
        request = system_pb2.GetActivityRequest(max_events=max_events)
        return Activity.from_proto(self._call("GetActivity", request, timeout))

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """Return the standard gRPC health status, e.g. "SERVING"."""
        request = health_pb2.HealthCheckRequest(service=service)
        response = self._call("Check", request, timeout)
        return health_status(response)

    def ping(self, *, timeout: float | None = None) -> Ping:
        """Make the cheapest round trip; return the server's version and time."""
        started = time.perf_counter()
        response = self._call("Ping", system_pb2.PingRequest(), timeout)
        return ping_of(response, time.perf_counter() - started)

    # Transport

    def _call(
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
                return method(
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
            time.sleep(delay)

    def _each(
        self,
        name: str,
        request: Any,
        field: str,
        limit: int | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | None = None,
    ) -> Iterator[Any]:
        """Yield the items of every page, at most ``limit`` of them."""
        pages = Pages(request, field, limit, page_size)
        while pages.wanted:
            pages.prepare()
            yield from pages.take(self._call(name, request, timeout))


class Pages:
    """Where a paged list stands; shared by both clients."""

    def __init__(
        self, request: Any, field: str, limit: int | None, page_size: int
    ) -> None:
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise ValidationError(f"page_size: {page_size!r} is not a whole number.")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page_size: {page_size} is not between 1 and {MAX_PAGE_SIZE}."
            )
        self.request = request
        self.field = field
        self.left = limit
        self.page_size = page_size
        self.wanted = limit is None or limit > 0

    def prepare(self) -> None:
        """Ask for no more than is still wanted."""
        size = self.page_size
        if self.left is not None:
            size = min(size, self.left)
        self.request.page_size = size

    def take(self, response: Any) -> list[Any]:
        """Return the page's items to yield; note whether to go on."""
        items = list(getattr(response, self.field))
        if self.left is not None:
            items = items[: self.left]
            self.left -= len(items)
        token = response.next_page_token
        self.wanted = bool(token) and (self.left is None or self.left > 0)
        self.request.page_token = token
        return items


def health_status(response: health_pb2.HealthCheckResponse) -> str:
    """Return the name of a health answer's status, e.g. "SERVING"."""
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def ping_of(response: system_pb2.PingResponse, round_trip_seconds: float) -> Ping:
    """Return the Ping of a server's answer and the measured round trip."""
    server_time = None
    if response.HasField("server_time"):
        server_time = response.server_time.ToDatetime(tzinfo=UTC)
    return Ping(response.version, server_time, round_trip_seconds)


R = TypeVar("R", Task, Workflow)


class TaskWatch:
    """What Poll needs to know of a task."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id

    def state(self, task: Task) -> Any:
        """Return what counts as a change."""
        return (task.status, task.attempt, task.blocked_by)

    def timed_out(self, task: Task, timeout: float) -> str:
        """Return the message of the TimeoutError."""
        return f"Task {self.task_id} is still {task.status} after {timeout:g}s."


class WorkflowWatch:
    """What Poll needs to know of a workflow."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id

    def state(self, workflow: Workflow) -> Any:
        """Return what counts as a change."""
        return (workflow.status, workflow.progress)

    def timed_out(self, workflow: Workflow, timeout: float) -> str:
        """Return the message of the TimeoutError."""
        progress = workflow.progress
        return (
            f"Workflow {self.workflow_id} is still {workflow.status} after "
            f"{timeout:g}s ({progress.ended} of {progress.total} tasks ended)."
        )


class Poll(Generic[R]):
    """What wait and wait_workflow remember between polls; shared by both clients."""

    def __init__(
        self,
        watch: TaskWatch | WorkflowWatch,
        timeout: float | None,
        on_change: Callable[[R], None] | None,
        poll_interval: float = MAX_POLL_SECONDS,
    ) -> None:
        self.watch = watch
        self.timeout = timeout
        self.deadline = deadline_after(timeout)
        self.on_change = on_change
        self.max_delay = max(POLL_SECONDS, poll_interval)
        self.delay = POLL_SECONDS
        self.state: Any = None
        self._record: R | None = None

    @property
    def record(self) -> R:
        """Return the task or workflow as last seen."""
        assert self._record is not None
        return self._record

    def seen(self, record: R) -> float | None:
        """Take a polled record; return seconds to sleep, or None when done.

        Raises:
            TimeoutError: the deadline passed and the record has not ended.
        """
        self._record = record
        state = self.watch.state(record)  # type: ignore[arg-type]
        if state != self.state:
            self.state = state
            self.delay = POLL_SECONDS
            if self.on_change is not None:
                self.on_change(record)
        else:
            self.delay = min(self.delay * 2, self.max_delay)
        if record.finished:
            return None
        left = time_left(self.deadline)
        if left is None:
            return self.delay
        if left <= 0:
            assert self.timeout is not None
            raise TimeoutError(self.watch.timed_out(record, self.timeout))  # type: ignore[arg-type]
        return min(self.delay, left)


def deadline_after(timeout: float | None) -> float | None:
    """Return the monotonic time ``timeout`` seconds from now (None: never)."""
    return None if timeout is None else time.monotonic() + timeout


def time_left(deadline: float | None) -> float | None:
    """Return the seconds until ``deadline``, at least 0 (None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def channel_options(target: str) -> list[tuple[str, Any]]:
    """Return channel options for a target: no proxy for loopback addresses."""
    # An http_proxy meant for the internet must not capture loopback traffic.
    host = target.rpartition(":")[0].strip("[]")
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    # A 10,000-task workflow with its edges is ~5 MB; the server sends up to 64 MiB.
    options: list[tuple[str, Any]] = [("grpc.max_receive_message_length", 64 << 20)]
    return [*options, ("grpc.enable_http_proxy", 0)] if loopback else options


def resolve_target(url: str | None, api_key: str | None) -> tuple[str, str | None]:
    """Return the target and API key, falling back on the server's settings."""
    try:
        settings = load_settings()
        return client_target(url, settings), api_key or settings.api_key or None
    except SettingsError as exc:
        raise ValidationError(str(exc)) from exc
    except ValueError as exc:
        raise ValidationError(f"{url!r} is not a server URL: {exc}.") from exc
