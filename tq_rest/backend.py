"""The gRPC side of the REST adapter: one channel, its stubs and the API key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

import grpc
from fastapi import Depends, Request

from tq_grpc._gen import (
    development_pb2_grpc,
    projects_pb2_grpc,
    system_pb2_grpc,
    tasks_pb2_grpc,
    workflows_pb2_grpc,
)
from tq_rest.errors import from_rpc

Reply = TypeVar("Reply")

CALL_TIMEOUT_SECONDS = 60.0
# Answers can be large (a 10,000-task workflow with its edges is ~5 MB); the
# server sends up to 64 MiB.
CHANNEL_OPTIONS = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
]


class Backend:
    """Stubs over one grpc.aio channel; every call carries the API key."""

    def __init__(self, target: str, *, api_key: str = "") -> None:
        self.channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.tasks = tasks_pb2_grpc.TaskServiceStub(self.channel)
        self.projects = projects_pb2_grpc.ProjectServiceStub(self.channel)
        self.system = system_pb2_grpc.SystemServiceStub(self.channel)
        self.workflows = workflows_pb2_grpc.WorkflowServiceStub(self.channel)
        self.development = development_pb2_grpc.DevelopmentServiceStub(self.channel)
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ()
        )
        # Set when the app stops: open response streams end.
        self.stopping = asyncio.Event()

    async def call(
        self,
        method: Callable[..., Awaitable[Reply]],
        request: Any,
        *,
        aliases: Mapping[str, str] | None = None,
        timeout_seconds: float = CALL_TIMEOUT_SECONDS,
    ) -> Reply:
        """Make a unary call; a failed one raises ApiError.

        Args:
            method: A stub method, e.g. ``backend.tasks.GetTask``.
            request: Its request message.
            aliases: gRPC field name -> REST name, for error messages.
            timeout_seconds: Deadline of the call.
        """
        try:
            return await method(
                request, metadata=self.metadata, timeout=timeout_seconds
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc(exc, aliases) from None

    def stream(self, method: Callable[..., Any], request: Any) -> Any:
        """Start a server-streaming call; iterate it with ``async for``."""
        return method(request, metadata=self.metadata)

    async def close(self) -> None:
        """End open streams and close the channel; running calls are cancelled."""
        self.stopping.set()
        await self.channel.close()


async def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(_backend)]
