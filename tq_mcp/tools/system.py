"""Tools about the server as a whole."""

from __future__ import annotations

from tq_grpc._gen import system_pb2
from tq_mcp import convert, models
from tq_mcp.gateway import Gateway


class SystemTools:
    """The server-wide tools, bound to one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def get_stats(self) -> models.Stats:
        """Get task counts by status, queue depth, running tasks, slots and
        uptime."""
        answer = await self._gateway.call(
            self._gateway.system.GetStats, system_pb2.GetStatsRequest()
        )
        return convert.stats(answer)
