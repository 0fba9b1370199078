"""Build the gRPC server: the three services, health checking and reflection.

Binding and serving are two steps, so that the server's port is known to be
free before the actors recover and start running tasks.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tq_actors import TaskQueueSystem
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
from tq_grpc.auth import ApiKeyInterceptor
from tq_grpc.decoding import DecodeGuard
from tq_grpc.servicers import (
    DevelopmentServicer,
    ProjectServicer,
    SystemServicer,
    TaskServicer,
    WorkflowServicer,
)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVICE_NAMES = (
    tasks_pb2.DESCRIPTOR.services_by_name["TaskService"].full_name,
    projects_pb2.DESCRIPTOR.services_by_name["ProjectService"].full_name,
    system_pb2.DESCRIPTOR.services_by_name["SystemService"].full_name,
    workflows_pb2.DESCRIPTOR.services_by_name["WorkflowService"].full_name,
    development_pb2.DESCRIPTOR.services_by_name["DevelopmentService"].full_name,
)


class BindError(RuntimeError):
    """The gRPC port could not be bound."""


def bind_server(
    *, host: str, port: int, api_key: str = ""
) -> tuple[grpc.aio.Server, int]:
    """Return an unstarted server bound to host:port, and the bound port."""
    interceptors: list[grpc.aio.ServerInterceptor] = [DecodeGuard()]
    if api_key:
        interceptors.append(ApiKeyInterceptor(api_key))
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise BindError(f"cannot listen on {address}: {exc}") from None
    if bound == 0:
        raise BindError(f"cannot listen on {address}")
    return server, bound


async def add_services(server: grpc.aio.Server, system: TaskQueueSystem) -> None:
    """Add every service, health checking and reflection to a bound server.

    Call from the event loop the server will run on.
    """
    tasks_pb2_grpc.add_TaskServiceServicer_to_server(TaskServicer(system), server)
    projects_pb2_grpc.add_ProjectServiceServicer_to_server(
        ProjectServicer(system), server
    )
    system_pb2_grpc.add_SystemServiceServicer_to_server(SystemServicer(system), server)
    workflows_pb2_grpc.add_WorkflowServiceServicer_to_server(
        WorkflowServicer(system), server
    )
    development_pb2_grpc.add_DevelopmentServiceServicer_to_server(
        DevelopmentServicer(system), server
    )

    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
