"""Server events on WatchEvents, GetActivity and per-project task counts."""

from __future__ import annotations

import queue
import threading
import time

import grpc
import pytest

from tests.integration.polling import create_task, wait_settled, wait_until
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2

KIND = tasks_pb2.ServerEventKind


class ServerWatch:
    """A WatchEvents stream whose whole answers are read into a queue."""

    def __init__(self, server: ServerProcess, request: tasks_pb2.WatchEventsRequest):
        self._call = server.tasks.WatchEvents(request)
        self.answers: queue.Queue[tasks_pb2.WatchEventsResponse] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for answer in self._call:
                self.answers.put(answer)
        except grpc.RpcError:
            pass

    def server_events(
        self, count: int, timeout: float = 10.0
    ) -> list[tasks_pb2.ServerEvent]:
        """Return the next count server events (task events are skipped)."""
        found: list[tasks_pb2.ServerEvent] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only {len(found)} of {count} server events")
            try:
                answer = self.answers.get(timeout=left)
            except queue.Empty:
                continue
            if answer.WhichOneof("change") == "server_event":
                found.append(answer.server_event)
        return found

    def subscribed(self, server: ServerProcess) -> None:
        """Wait until the stream delivers: tracking-only probes until one shows."""

        def probe() -> bool:
            create_task(server, "probe")
            try:
                self.answers.get(timeout=0.3)
            except queue.Empty:
                return False
            return True

        wait_until(probe, timeout=10, what="the watch to deliver")
        time.sleep(0.2)
        while not self.answers.empty():
            self.answers.get_nowait()

    def close(self) -> None:
        """Cancel the stream."""
        self._call.cancel()


def new_project(server: ServerProcess, name: str) -> projects_pb2.Project:
    """Create a project and return it."""
    return server.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name=name)
    ).project


def test_server_events_report_project_changes_and_the_queue_pause(
    server: ServerFactory,
) -> None:
    srv = server()
    watch = ServerWatch(srv, tasks_pb2.WatchEventsRequest(include_server_events=True))
    try:
        watch.subscribed(srv)

        project = new_project(srv, "watched")
        srv.projects.UpdateProject(
            projects_pb2.UpdateProjectRequest(id=project.id, description="changed")
        )
        # Neither changes anything, so neither is an event.
        srv.projects.UpdateProject(projects_pb2.UpdateProjectRequest(id=project.id))
        srv.system.PauseQueue(system_pb2.PauseQueueRequest())
        srv.system.PauseQueue(system_pb2.PauseQueueRequest())
        srv.system.ResumeQueue(system_pb2.ResumeQueueRequest())
        srv.projects.DeleteProject(projects_pb2.DeleteProjectRequest(id=project.id))
        events = watch.server_events(5)
    finally:
        watch.close()

    assert [(e.kind, e.project_id) for e in events] == [
        (KIND.SERVER_EVENT_KIND_PROJECT_CREATED, project.id),
        (KIND.SERVER_EVENT_KIND_PROJECT_UPDATED, project.id),
        (KIND.SERVER_EVENT_KIND_QUEUE_PAUSED, ""),
        (KIND.SERVER_EVENT_KIND_QUEUE_RESUMED, ""),
        (KIND.SERVER_EVENT_KIND_PROJECT_DELETED, project.id),
    ]
    assert all(abs(e.at.seconds - time.time()) < 60 for e in events)


def test_a_watch_hears_server_events_only_when_it_asks_and_of_its_project(
    server: ServerFactory,
) -> None:
    srv = server()
    mine = new_project(srv, "mine")
    plain = ServerWatch(srv, tasks_pb2.WatchEventsRequest())
    scoped = ServerWatch(
        srv,
        tasks_pb2.WatchEventsRequest(project_id=mine.id, include_server_events=True),
    )
    try:
        plain.subscribed(srv)
        # The scoped watch sees only its project's tasks: probe through it.
        create_task(srv, "probe", project_id=mine.id)
        scoped.answers.get(timeout=10)

        other = new_project(srv, "other")
        srv.projects.UpdateProject(
            projects_pb2.UpdateProjectRequest(id=mine.id, max_parallel=2)
        )
        srv.system.PauseQueue(system_pb2.PauseQueueRequest())
        events = scoped.server_events(2)
        time.sleep(0.5)
        plain_kinds = [
            plain.answers.get_nowait().WhichOneof("change")
            for _ in range(plain.answers.qsize())
        ]
    finally:
        plain.close()
        scoped.close()

    assert [(e.kind, e.project_id) for e in events] == [
        (KIND.SERVER_EVENT_KIND_PROJECT_UPDATED, mine.id),
        (KIND.SERVER_EVENT_KIND_QUEUE_PAUSED, ""),
    ]
    assert other.id not in {e.project_id for e in events}
    assert "server_event" not in plain_kinds


def test_get_activity_counts_finishes_this_minute_and_lists_recent_events(
    server: ServerFactory,
) -> None:
    srv = server(slots=2)
    ok = create_task(srv, "ok", "true")
    bad = create_task(srv, "bad", "exit 4")
    wait_settled(srv, ok.id)
    wait_settled(srv, bad.id)
    held = create_task(srv, "held")
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=held.id, reason="no"))

    activity = srv.system.GetActivity(system_pb2.GetActivityRequest())

    assert len(activity.minutes) == 60
    starts = [m.start.seconds for m in activity.minutes]
    assert starts == sorted(starts) and starts[-1] - starts[0] == 59 * 60
    assert starts[-1] <= time.time() < starts[-1] + 120
    totals = [
        sum(getattr(m, name) for m in activity.minutes)
        for name in ("completed", "failed", "cancelled")
    ]
    assert totals == [1, 1, 1]
    newest = activity.recent_events[0]
    assert (newest.task_id, newest.to_status) == (
        held.id,
        common_pb2.TASK_STATUS_CANCELLED,
    )
    seqs = [e.seq for e in activity.recent_events]
    assert seqs == sorted(seqs, reverse=True)
    assert {ok.id, bad.id, held.id} <= {e.task_id for e in activity.recent_events}
    assert activity.since.seconds <= starts[-1] + 60

    two = srv.system.GetActivity(system_pb2.GetActivityRequest(max_events=2))
    assert [e.seq for e in two.recent_events] == seqs[:2]


def test_get_activity_refuses_a_negative_max_events(
    shared_server: ServerProcess,
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        shared_server.system.GetActivity(system_pb2.GetActivityRequest(max_events=-1))

    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "max_events" in (caught.value.details() or "")


def test_projects_carry_their_task_counts_per_status(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    project = new_project(srv, "counted")
    done = create_task(srv, "done", "true", project_id=project.id)
    wait_settled(srv, done.id)
    tracked = [create_task(srv, f"t{i}", project_id=project.id) for i in range(3)]
    srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=tracked[0].id))

    got = srv.projects.GetProject(projects_pb2.GetProjectRequest(id=project.id))
    listed = [
        p
        for p in srv.projects.ListProjects(
            projects_pb2.ListProjectsRequest(page_size=1000)
        ).projects
        if p.id == project.id
    ]

    counts = dict(got.project.tasks_by_status)
    assert counts["completed"] == 1
    assert counts["pending"] == 2
    assert sum(counts.values()) == 3
    assert set(counts) >= {"pending", "running", "completed", "failed", "cancelled"}
    assert dict(listed[0].tasks_by_status) == counts
