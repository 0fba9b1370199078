"""The gRPC side of the dashboard: one channel, its stubs, and calls with a key.

Like the REST adapter, the dashboard opens its own grpc.aio channel to the
server of the same process. Unlike REST, it never sends the server's own key:
every call carries the key the person signed in with (none when the server
has no key), so a wrong key gets the server's refusal, never data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from tq_grpc._gen import (
    development_pb2_grpc,
    projects_pb2_grpc,
    system_pb2_grpc,
    tasks_pb2_grpc,
    workflows_pb2_grpc,
)

Reply = TypeVar("Reply")

CALL_TIMEOUT_SECONDS = 30.0
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]

# Messages for codes whose server text may hold internal detail.
_GENERIC_MESSAGES = {
    grpc.StatusCode.UNKNOWN: "Internal server error.",
    grpc.StatusCode.INTERNAL: "Internal server error.",
    grpc.StatusCode.DATA_LOSS: "Internal server error.",
    grpc.StatusCode.UNAVAILABLE: "The task queue service is unavailable.",
    grpc.StatusCode.CANCELLED: "The task queue service dropped the request.",
    grpc.StatusCode.DEADLINE_EXCEEDED: "The task queue service did not answer in time.",
    grpc.StatusCode.UNAUTHENTICATED: "The server refused the API key.",
}


class UiError(Exception):
    """A refused or failed gRPC call, with a message fit for the page."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def unauthenticated(self) -> bool:
        """Return whether the server refused the key."""
        return self.code is grpc.StatusCode.UNAUTHENTICATED

    @classmethod
    def from_rpc(cls, exc: grpc.aio.AioRpcError) -> UiError:
        """Return the error of a failed call."""
        code = exc.code()
        message = _GENERIC_MESSAGES.get(code) or exc.details() or code.name
        return cls(code, message)


class Stubs:
    """The stubs of every service over one grpc.aio channel."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.tasks = tasks_pb2_grpc.TaskServiceStub(self.channel)
        self.projects = projects_pb2_grpc.ProjectServiceStub(self.channel)
        self.system = system_pb2_grpc.SystemServiceStub(self.channel)
        self.workflows = workflows_pb2_grpc.WorkflowServiceStub(self.channel)
        self.development = development_pb2_grpc.DevelopmentServiceStub(self.channel)

    async def close(self) -> None:
        """Close the channel; running calls are cancelled."""
        await self.channel.close()


def metadata_for(key: str) -> tuple[tuple[str, str], ...]:
    """Return the call metadata that carries key (nothing for no key)."""
    return (("authorization", f"Bearer {key}"),) if key else ()


class Api:
    """The stubs as one signed-in person uses them: every call carries their key."""

    def __init__(self, stubs: Stubs, key: str) -> None:
        self.stubs = stubs
        self.key = key
        self.metadata = metadata_for(key)

    @property
    def tasks(self) -> tasks_pb2_grpc.TaskServiceStub:
        """Return the TaskService stub."""
        return self.stubs.tasks

    @property
    def projects(self) -> projects_pb2_grpc.ProjectServiceStub:
        """Return the ProjectService stub."""
        return self.stubs.projects

    @property
    def system(self) -> system_pb2_grpc.SystemServiceStub:
        """Return the SystemService stub."""
        return self.stubs.system

    @property
    def workflows(self) -> workflows_pb2_grpc.WorkflowServiceStub:
        """Return the WorkflowService stub."""
        return self.stubs.workflows

    @property
    def development(self) -> development_pb2_grpc.DevelopmentServiceStub:
        """Return the DevelopmentService stub."""
        return self.stubs.development

    async def call(
        self,
        method: Callable[..., Awaitable[Reply]],
        request: Any,
        *,
        timeout_seconds: float = CALL_TIMEOUT_SECONDS,
    ) -> Reply:
        """Make a unary call with the key; a failed one raises UiError."""
        try:
            return await method(
                request, metadata=self.metadata, timeout=timeout_seconds
            )
        except grpc.aio.AioRpcError as exc:
            raise UiError.from_rpc(exc) from None

    def stream(self, method: Callable[..., Any], request: Any) -> Any:
        """Start a server-streaming call with the key; iterate it with async for."""
        return method(request, metadata=self.metadata)
