"""Status → exception for every gRPC status, and retries, over a scripted server.

A fake TaskService in this process answers with whatever status a test
asks for, so each mapping and each retry decision is seen through a real
gRPC call, from the sync client and the async one alike.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from taskqueue import (
    AsyncTaskQueueClient,
    AuthenticationError,
    ConflictError,
    ConnectionError,
    NotFoundError,
    ProjectNotFoundError,
    TaskNotFoundError,
    TaskQueueClient,
    TaskQueueError,
    ValidationError,
    client,
    errors,
)
from tests.server_process import ServerProcess
from tq_grpc._gen import tasks_pb2, tasks_pb2_grpc

# What each status a call can end with becomes (OK is not a failure).
EXPECTED: dict[grpc.StatusCode, type[TaskQueueError]] = {
    grpc.StatusCode.CANCELLED: TaskQueueError,
    grpc.StatusCode.UNKNOWN: TaskQueueError,
    grpc.StatusCode.INVALID_ARGUMENT: ValidationError,
    grpc.StatusCode.DEADLINE_EXCEEDED: ConnectionError,
    grpc.StatusCode.NOT_FOUND: TaskNotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: ConflictError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TaskQueueError,
    grpc.StatusCode.FAILED_PRECONDITION: ConflictError,
    grpc.StatusCode.ABORTED: ConflictError,
    grpc.StatusCode.OUT_OF_RANGE: ValidationError,
    grpc.StatusCode.UNIMPLEMENTED: TaskQueueError,
    grpc.StatusCode.INTERNAL: TaskQueueError,
    grpc.StatusCode.UNAVAILABLE: ConnectionError,
    grpc.StatusCode.DATA_LOSS: TaskQueueError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
}
FAILURES = sorted(EXPECTED, key=lambda code: code.value[0])


class ScriptedTasks(tasks_pb2_grpc.TaskServiceServicer):
    """GetTask fails with the status its id names, ``failures`` times at most.

    The id is ``STATUS`` or ``STATUS:N`` (fail the first N calls, then
    answer), or SLOW (answer after a second). CreateTask and
    BatchCreateTasks always fail UNAVAILABLE. Every call is counted by
    method name.
    """

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> int:
        self.calls[name] = self.calls.get(name, 0) + 1
        return self.calls[name]

    def GetTask(
        self, request: tasks_pb2.GetTaskRequest, context: grpc.ServicerContext
    ) -> tasks_pb2.GetTaskResponse:
        seen = self._count(f"GetTask {request.id}")
        if request.id == "SLOW":
            time.sleep(1)
            return tasks_pb2.GetTaskResponse(task=tasks_pb2.Task(id="SLOW"))
        name, _, times = request.id.partition(":")
        if not times or seen <= int(times):
            code = grpc.StatusCode[name]
            details = "Task t1 not found." if name == "NOT_FOUND" else f"said {name}"
            context.abort(code, details)
        return tasks_pb2.GetTaskResponse(task=tasks_pb2.Task(id=request.id))

    def CreateTask(
        self, request: tasks_pb2.CreateTaskRequest, context: grpc.ServicerContext
    ) -> tasks_pb2.CreateTaskResponse:
        self._count("CreateTask")
        context.abort(grpc.StatusCode.UNAVAILABLE, "going down")
        return tasks_pb2.CreateTaskResponse()

    def BatchCreateTasks(
        self,
        request: tasks_pb2.BatchCreateTasksRequest,
        context: grpc.ServicerContext,
    ) -> tasks_pb2.BatchCreateTasksResponse:
        self._count("BatchCreateTasks")
        context.abort(grpc.StatusCode.UNAVAILABLE, "going down")
        return tasks_pb2.BatchCreateTasksResponse()


@pytest.fixture
def scripted() -> Iterator[tuple[str, ScriptedTasks]]:
    """Serve ScriptedTasks on a free loopback port; yield its URL and itself."""
    servicer = ScriptedTasks()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    tasks_pb2_grpc.add_TaskServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"grpc://127.0.0.1:{port}", servicer
    finally:
        server.stop(grace=2).wait()


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make retries wait milliseconds instead of a quarter second and up."""
    monkeypatch.setattr(client, "RETRY_BACKOFF_SECONDS", 0.001)


def test_every_failure_status_is_expected_here() -> None:
    assert set(EXPECTED) == set(grpc.StatusCode) - {grpc.StatusCode.OK}


@pytest.mark.parametrize("code", FAILURES, ids=lambda code: code.name)
def test_each_status_raises_its_error_from_the_sync_client(
    code: grpc.StatusCode, scripted: tuple[str, ScriptedTasks]
) -> None:
    url, _ = scripted

    with (
        TaskQueueClient(url, retries=0) as tq,
        pytest.raises(TaskQueueError) as caught,
    ):
        tq.get_task(code.name)

    assert type(caught.value) is EXPECTED[code]
    assert caught.value.code is code


@pytest.mark.anyio
@pytest.mark.parametrize("code", FAILURES, ids=lambda code: code.name)
async def test_each_status_raises_its_error_from_the_async_client(
    code: grpc.StatusCode, scripted: tuple[str, ScriptedTasks]
) -> None:
    url, _ = scripted

    async with AsyncTaskQueueClient(url, retries=0) as tq:
        with pytest.raises(TaskQueueError) as caught:
            await tq.get_task(code.name)

    assert type(caught.value) is EXPECTED[code]
    assert caught.value.code is code


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio needs."""
    return "asyncio"


def test_a_read_is_retried_while_the_server_is_unavailable(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted

    with TaskQueueClient(url, retries=3) as tq:
        task = tq.get_task("UNAVAILABLE:3")

    assert task.id == "UNAVAILABLE:3"
    assert servicer.calls["GetTask UNAVAILABLE:3"] == 4


def test_retries_give_up_after_the_number_given(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted

    with TaskQueueClient(url, retries=2) as tq, pytest.raises(ConnectionError):
        tq.get_task("UNAVAILABLE:5")

    assert servicer.calls["GetTask UNAVAILABLE:5"] == 3


def test_other_failures_are_not_retried(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted

    with TaskQueueClient(url, retries=3) as tq, pytest.raises(ConnectionError):
        tq.get_task("DEADLINE_EXCEEDED:1")

    assert servicer.calls["GetTask DEADLINE_EXCEEDED:1"] == 1


def test_a_create_is_retried_only_with_an_idempotency_key(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted

    with TaskQueueClient(url, retries=2) as tq:
        with pytest.raises(ConnectionError):
            tq.create_task(name="once", command="true")
        assert servicer.calls["CreateTask"] == 1
        with pytest.raises(ConnectionError):
            tq.create_task(name="keyed", command="true", idempotency_key="k1")
        assert servicer.calls["CreateTask"] == 1 + 3


def test_a_batch_is_retried_only_when_every_task_has_a_key(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted
    keyed = [
        {"name": "a", "idempotency_key": "a"},
        {"name": "b", "idempotency_key": "b"},
    ]

    with TaskQueueClient(url, retries=1) as tq:
        with pytest.raises(ConnectionError):
            tq.create_tasks([{"name": "a", "idempotency_key": "a"}, {"name": "b"}])
        assert servicer.calls["BatchCreateTasks"] == 1
        with pytest.raises(ConnectionError):
            tq.create_tasks(keyed)
        assert servicer.calls["BatchCreateTasks"] == 1 + 2


@pytest.mark.anyio
async def test_the_async_client_retries_the_same_way(
    scripted: tuple[str, ScriptedTasks], quick_backoff: None
) -> None:
    url, servicer = scripted

    async with AsyncTaskQueueClient(url, retries=3) as tq:
        assert (await tq.get_task("UNAVAILABLE:2")).id == "UNAVAILABLE:2"
        with pytest.raises(ConnectionError):
            await tq.create_task(name="once")

    assert servicer.calls["GetTask UNAVAILABLE:2"] == 3
    assert servicer.calls["CreateTask"] == 1


def test_retries_wait_longer_each_time_within_the_cap() -> None:
    delays = list(client.backoff_delays(8))

    assert len(delays) == 8
    first = client.RETRY_BACKOFF_SECONDS
    assert 0.8 * first <= delays[0] <= 1.2 * first
    # 0.25, 0.5, 1, 2, 4 s (each ±20%), then the cap.
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[:5]))
    assert max(delays) <= 1.2 * client.RETRY_MAX_BACKOFF_SECONDS


@pytest.mark.parametrize(
    "options", [{"retries": -1}, {"retries": 1.5}, {"timeout": 0}, {"timeout": -2}]
)
def test_unusable_client_options_are_validation_errors(options: dict) -> None:
    with pytest.raises(ValidationError):
        TaskQueueClient("127.0.0.1:1", **options)


# Against the real server: ids that are not UUIDs, and per-call timeouts.


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("get_task", errors.InvalidTaskIdError),
        ("get_project", errors.InvalidProjectIdError),
        ("get_workflow", errors.InvalidWorkflowIdError),
        ("get_development_workflow", errors.InvalidTaskIdError),
    ],
)
def test_an_id_that_is_not_a_uuid_is_not_found_and_invalid(
    shared_server: ServerProcess, call: str, expected: type[TaskQueueError]
) -> None:
    with TaskQueueClient(shared_server.target) as tq, pytest.raises(expected) as caught:
        getattr(tq, call)("invalid-id")

    assert isinstance(caught.value, NotFoundError)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.id == "invalid-id"
    assert str(caught.value) == "id: 'invalid-id' is not a UUID." or str(
        caught.value
    ) == ("task_id: 'invalid-id' is not a UUID.")


def test_unknown_ids_raise_the_not_found_error_of_their_kind(
    shared_server: ServerProcess,
) -> None:
    missing = str(uuid.uuid4())
    with TaskQueueClient(shared_server.target) as tq:
        with pytest.raises(TaskNotFoundError) as task:
            tq.get_task(missing)
        with pytest.raises(ProjectNotFoundError) as project:
            tq.create_task(name="x", project_id=missing)
        with pytest.raises(NotFoundError) as workflow:
            tq.get_workflow(missing)

    assert task.value.id == missing
    assert project.value.id == missing
    assert not isinstance(workflow.value, TaskNotFoundError | ProjectNotFoundError)


def test_a_malformed_field_other_than_the_id_stays_a_validation_error(
    shared_server: ServerProcess,
) -> None:
    with (
        TaskQueueClient(shared_server.target) as tq,
        pytest.raises(ValidationError) as caught,
    ):
        tq.create_task(name="x", project_id="not-a-uuid")

    assert not isinstance(caught.value, NotFoundError)


def test_a_per_call_timeout_overrides_the_clients(
    scripted: tuple[str, ScriptedTasks],
) -> None:
    url, servicer = scripted

    with TaskQueueClient(url, timeout=30) as tq:
        with pytest.raises(ConnectionError) as caught:
            tq.get_task("SLOW", timeout=0.2)
        assert tq.get_task("SLOW").id == "SLOW"

    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "did not answer in time" in str(caught.value)
    assert servicer.calls["GetTask SLOW"] == 2


def test_a_client_timeout_bounds_every_call(
    scripted: tuple[str, ScriptedTasks],
) -> None:
    url, _ = scripted

    with TaskQueueClient(url, timeout=0.2) as tq, pytest.raises(ConnectionError):
        tq.get_task("SLOW")


@pytest.mark.anyio
async def test_the_async_client_takes_per_call_timeouts_too(
    scripted: tuple[str, ScriptedTasks],
) -> None:
    url, _ = scripted

    async with AsyncTaskQueueClient(url) as tq:
        with pytest.raises(ConnectionError):
            await tq.get_task("SLOW", timeout=0.2)
