"""The SDK's status → exception table, over real gRPC calls where it matters."""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from taskqueue import TaskQueueClient, errors
from tq_grpc._gen import system_pb2, system_pb2_grpc

NOT_FOUND_DETAILS = ("Task t1 not found.", "Project p1 not found.", "")
MALFORMED_ID_DETAILS = "id: 'x' is not a UUID."


def all_error_classes() -> set[type[errors.TaskQueueError]]:
    return {
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, errors.TaskQueueError)
    }


def test_every_status_code_has_an_entry() -> None:
    assert set(errors.STATUS_TO_ERROR) == set(grpc.StatusCode)


def test_every_error_class_is_reached_by_some_status() -> None:
    reached = {
        errors.error_class(code, details, subject)
        for code in grpc.StatusCode
        for details in (*NOT_FOUND_DETAILS, MALFORMED_ID_DETAILS)
        for subject in (None, "task", "project", "workflow")
    }

    assert reached | {errors.NotFoundError} == all_error_classes()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, errors.ValidationError),
        (grpc.StatusCode.FAILED_PRECONDITION, errors.ConflictError),
        (grpc.StatusCode.ALREADY_EXISTS, errors.ConflictError),
        (grpc.StatusCode.UNAUTHENTICATED, errors.AuthenticationError),
        (grpc.StatusCode.PERMISSION_DENIED, errors.AuthenticationError),
        (grpc.StatusCode.UNAVAILABLE, errors.ConnectionError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, errors.ConnectionError),
        (grpc.StatusCode.INTERNAL, errors.TaskQueueError),
    ],
)
def test_statuses_map_to_their_error(
    code: grpc.StatusCode, expected: type[errors.TaskQueueError]
) -> None:
    assert errors.error_class(code) is expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("task", errors.InvalidTaskIdError),
        ("project", errors.InvalidProjectIdError),
        ("workflow", errors.InvalidWorkflowIdError),
        (None, errors.ValidationError),
    ],
)
def test_an_id_that_is_not_a_uuid_is_not_found_of_the_calls_subject(
    subject: str | None, expected: type[errors.TaskQueueError]
) -> None:
    code = grpc.StatusCode.INVALID_ARGUMENT

    assert errors.error_class(code, MALFORMED_ID_DETAILS, subject) is expected
    assert errors.error_class(code, "name: must not be empty.", subject) is (
        errors.ValidationError
    )


def test_not_found_names_the_kind_of_object_from_the_message() -> None:
    task = errors.error_class(grpc.StatusCode.NOT_FOUND, "Task t1 not found.")
    project = errors.error_class(grpc.StatusCode.NOT_FOUND, "Project p1 not found.")

    assert task is errors.TaskNotFoundError
    assert project is errors.ProjectNotFoundError


class FakeSystem(system_pb2_grpc.SystemServiceServicer):
    """Answers Ping only with the right API key; GetStats names a lost project."""

    def Ping(
        self, request: system_pb2.PingRequest, context: grpc.ServicerContext
    ) -> system_pb2.PingResponse:
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != "Bearer sesame":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "A valid API key is needed.")
        return system_pb2.PingResponse(version="9.9.9")

    def GetStats(
        self, request: system_pb2.GetStatsRequest, context: grpc.ServicerContext
    ) -> system_pb2.GetStatsResponse:
        context.abort(grpc.StatusCode.NOT_FOUND, "Project p1 not found.")
        return system_pb2.GetStatsResponse()


@pytest.fixture
def fake_system_url() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    system_pb2_grpc.add_SystemServiceServicer_to_server(FakeSystem(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"grpc://127.0.0.1:{port}"
    server.stop(None)


def test_the_server_message_reaches_the_caller(
    fake_system_url: str,
) -> None:
    url = fake_system_url

    with (
        TaskQueueClient(url) as client,
        pytest.raises(errors.ProjectNotFoundError) as caught,
    ):
        client.stats()

    assert str(caught.value) == "Project p1 not found."
    assert caught.value.id == "p1"
    assert caught.value.code is grpc.StatusCode.NOT_FOUND


def test_the_api_key_travels_as_a_bearer_token(
    fake_system_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fake_system_url
    monkeypatch.delenv("TASK_QUEUE_API_KEY", raising=False)

    with TaskQueueClient(url, api_key="sesame") as client:
        assert client.ping().version == "9.9.9"
    with TaskQueueClient(url) as client, pytest.raises(errors.AuthenticationError):
        client.ping()


def test_an_unreachable_server_is_a_connection_error_naming_the_address() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"127.0.0.1:{port}"

    with (
        TaskQueueClient(target, timeout=5) as client,
        pytest.raises(errors.ConnectionError) as caught,
    ):
        client.get_task("t1")

    assert str(caught.value) == (
        f"cannot reach the task queue server at {target} "
        "(is it running? start it with `task-queue`)"
    )


def test_a_malformed_server_url_is_a_validation_error() -> None:
    with pytest.raises(errors.ValidationError):
        TaskQueueClient("ftp://example")
