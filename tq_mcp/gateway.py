"""The gRPC side of the MCP adapter: one channel, its stubs and the API key."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc

from tq_grpc._gen import (
    development_pb2_grpc,
    projects_pb2_grpc,
    system_pb2_grpc,
    tasks_pb2_grpc,
    workflows_pb2_grpc,
)
from tq_mcp.errors import ToolFailure, from_rpc

logger = logging.getLogger(__name__)

Reply = TypeVar("Reply")

CALL_TIMEOUT_SECONDS = 60.0


class Gateway:
    """Stubs over one grpc.aio channel to ``target``; every call carries the key.

    The channel is opened by ``open`` on the event loop the tools run on (the
    MCP server's lifespan does it) and closed by ``close``.
    """

    tasks: tasks_pb2_grpc.TaskServiceStub
    projects: projects_pb2_grpc.ProjectServiceStub
    system: system_pb2_grpc.SystemServiceStub
    workflows: workflows_pb2_grpc.WorkflowServiceStub
    development: development_pb2_grpc.DevelopmentServiceStub

    def __init__(self, target: str, *, api_key: str = "") -> None:
        self.target = target
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ()
        )
        self._channel: grpc.aio.Channel | None = None

    async def open(self) -> None:
        """Open the channel and build the stubs."""
        if self._channel is not None:
            return
        channel = grpc.aio.insecure_channel(
            self.target, options=_channel_options(self.target)
        )
        self._channel = channel
        self.tasks = tasks_pb2_grpc.TaskServiceStub(channel)
        self.projects = projects_pb2_grpc.ProjectServiceStub(channel)
        self.system = system_pb2_grpc.SystemServiceStub(channel)
        self.workflows = workflows_pb2_grpc.WorkflowServiceStub(channel)
        self.development = development_pb2_grpc.DevelopmentServiceStub(channel)
        logger.debug("MCP: calling gRPC at %s", self.target)

    async def close(self) -> None:
        """Close the channel; running calls are cancelled."""
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    async def call(
        self,
        method: Callable[..., Awaitable[Reply]],
        request: Any,
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> Reply:
        """Make a unary call; a failed one raises ToolFailure.

        Args:
            method: A stub method, e.g. ``gateway.tasks.GetTask``.
            request: Its request message.
            aliases: gRPC field name -> tool argument name, for messages.
        """
        if self._channel is None:
            raise ToolFailure("unavailable", "The MCP adapter is not connected yet.")
        try:
            return await method(
                request, metadata=self.metadata, timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as exc:
            failure = from_rpc(exc, aliases)
        if failure.code == "unavailable":
            failure = ToolFailure(
                "unavailable",
                f"The task queue server at {self.target} is unavailable; is it "
                "running? Try again shortly.",
            )
        raise failure


def _channel_options(target: str) -> list[tuple[str, Any]]:
    # An http_proxy meant for the internet must not capture loopback traffic.
    host = target.rpartition(":")[0].strip("[]")
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    return [("grpc.enable_http_proxy", 0)] if loopback else []
