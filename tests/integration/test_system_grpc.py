"""SystemService, health checking and reflection over gRPC."""

from __future__ import annotations

import time
from importlib.metadata import version

from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.integration.polling import (
    create_task,
    seconds,
    wait_running,
    wait_settled,
)
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import projects_pb2, system_pb2, tasks_pb2


def test_get_stats_counts_tasks_by_status_projects_and_the_queue(
    server: ServerFactory,
) -> None:
    srv = server(slots=1)
    srv.projects.CreateProject(projects_pb2.CreateProjectRequest(name="counted"))
    for command in ("true", "true", "exit 1"):
        wait_settled(srv, create_task(srv, "settles", command).id)
    create_task(srv, "tracked only")
    blocker = create_task(srv, "blocker", "sleep 5")
    wait_running(srv, blocker.id)
    waiting = [create_task(srv, f"waiting {i}", "true") for i in range(2)]
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=waiting[1].id))

    busy = srv.system.GetStats(system_pb2.GetStatsRequest())

    assert dict(busy.tasks_by_status) == {
        "pending": 2,
        "waiting_for_dependencies": 0,
        "running": 1,
        "completed": 2,
        "failed": 1,
        "cancelled": 1,
    }
    assert busy.total_tasks == 7
    assert busy.total_projects == 1
    assert (busy.running, busy.queue_depth, busy.slots) == (1, 1, 1)
    assert busy.uptime_seconds > 0
    assert busy.version == version("task-queue")


def test_ping_answers_with_the_server_time_and_version(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server

    answer = srv.system.Ping(system_pb2.PingRequest(), timeout=5)

    assert abs(seconds(answer.server_time) - time.time()) < 5
    assert answer.version == version("task-queue")


def test_the_health_check_reports_each_service_serving(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    health = health_pb2_grpc.HealthStub(srv.channel)

    statuses = {
        name: health.Check(health_pb2.HealthCheckRequest(service=name)).status
        for name in (
            "taskqueue.v1.TaskService",
            "taskqueue.v1.ProjectService",
            "taskqueue.v1.SystemService",
        )
    }

    assert set(statuses.values()) == {health_pb2.HealthCheckResponse.SERVING}


def test_server_reflection_lists_the_task_service(shared_server: ServerProcess) -> None:
    srv = shared_server
    reflection = reflection_pb2_grpc.ServerReflectionStub(srv.channel)

    answers = list(
        reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
            timeout=5,
        )
    )

    names = {s.name for s in answers[0].list_services_response.service}
    assert {
        "taskqueue.v1.TaskService",
        "taskqueue.v1.ProjectService",
        "taskqueue.v1.SystemService",
        "grpc.health.v1.Health",
    } <= names
