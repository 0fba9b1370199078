"""WatchEvents over gRPC."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import psutil

from tests.integration.polling import create_task, wait_running, wait_settled
from tests.integration.processes import group_members, kill_group
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2

UNSPECIFIED = common_pb2.TASK_STATUS_UNSPECIFIED
PENDING = common_pb2.TASK_STATUS_PENDING
RUNNING = common_pb2.TASK_STATUS_RUNNING
COMPLETED = common_pb2.TASK_STATUS_COMPLETED
CANCELLED = common_pb2.TASK_STATUS_CANCELLED


class EventWatch:
    """A WatchEvents stream read on a background thread into a queue."""

    def __init__(self, server: ServerProcess, request: tasks_pb2.WatchEventsRequest):
        self._server = server
        self._call = server.tasks.WatchEvents(request)
        self._events: queue.Queue[tasks_pb2.TaskEvent] = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.probes: set[str] = set()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for response in self._call:
                self._events.put(response.event)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc

    def next(self, timeout: float) -> tasks_pb2.TaskEvent | None:
        """Return the next event, or None if none arrives within timeout."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def until_subscribed(self, project_id: str = "", timeout: float = 5.0) -> None:
        """Create tracking-only probe tasks until the stream shows one of them."""
        deadline = time.monotonic() + timeout
        probes = self.probes
        while time.monotonic() < deadline:
            probe = create_task(self._server, "probe", project_id=project_id)
            probes.add(probe.id)
            event = self.next(timeout=0.2)
            while event is not None:
                if event.task_id in probes:
                    self._drain()
                    return
                event = self.next(timeout=0.05)
        raise AssertionError("the watch never delivered an event")

    def events_of(
        self, task_id: str, last_status: int, timeout: float = 5.0
    ) -> list[tasks_pb2.TaskEvent]:
        """Collect every event until task_id reaches last_status."""
        collected: list[tasks_pb2.TaskEvent] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next(timeout=0.1)
            if event is None:
                continue
            collected.append(event)
            if event.task_id == task_id and event.to_status == last_status:
                return collected
        raise AssertionError(f"no event to {last_status} within {timeout} s")

    def until_deleted(
        self, task_id: str, timeout: float = 10.0
    ) -> list[tasks_pb2.TaskEvent]:
        """Collect task_id's events until the one of its deletion."""
        collected: list[tasks_pb2.TaskEvent] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next(timeout=0.1)
            if event is None or event.task_id != task_id:
                continue
            collected.append(event)
            if event.deleted:
                return collected
        raise AssertionError(f"no deletion of {task_id} within {timeout} s")

    def close(self) -> None:
        """Cancel the stream and wait for the reader thread."""
        self._call.cancel()
        self._thread.join(timeout=5)

    def _drain(self) -> None:
        while self.next(timeout=0.05) is not None:
            pass


@contextmanager
def watching(
    server: ServerProcess, request: tasks_pb2.WatchEventsRequest
) -> Iterator[EventWatch]:
    """Open a WatchEvents stream for the duration of a block."""
    watch = EventWatch(server, request)
    try:
        yield watch
    finally:
        watch.close()
    assert watch.error is None, f"the watch failed: {watch.error}"


def test_watch_events_streams_created_started_and_completed_of_a_new_task(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    with watching(srv, tasks_pb2.WatchEventsRequest()) as watch:
        watch.until_subscribed()

        task = create_task(srv, "watched", "echo hi")
        events = [
            e for e in watch.events_of(task.id, COMPLETED) if e.task_id == task.id
        ]

    assert [(e.from_status, e.to_status) for e in events] == [
        (common_pb2.TASK_STATUS_UNSPECIFIED, PENDING),
        (PENDING, RUNNING),
        (RUNNING, COMPLETED),
    ]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert events[-1].exit_code == 0
    assert all(e.HasField("at") for e in events)


def test_watch_events_of_a_project_leaves_out_other_tasks(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="watched")
    ).project
    with watching(srv, tasks_pb2.WatchEventsRequest(project_id=project.id)) as watch:
        watch.until_subscribed(project_id=project.id)

        outside = create_task(srv, "outside", "true")
        wait_settled(srv, outside.id)
        inside = create_task(srv, "inside", "true", project_id=project.id)
        events = watch.events_of(inside.id, COMPLETED)

    # A probe's event may still arrive late when the machine is busy.
    assert {e.task_id for e in events} - watch.probes == {inside.id}
    assert all(e.project_id == project.id for e in events)


def test_a_cascading_project_delete_cancels_a_running_task_before_deleting_it(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="doomed")
    ).project
    with watching(srv, tasks_pb2.WatchEventsRequest(project_id=project.id)) as watch:
        watch.until_subscribed(project_id=project.id)
        task = create_task(srv, "long", "sleep 60", project_id=project.id)
        pid = wait_running(srv, task.id, timeout=10).pid
        try:
            answer = srv.projects.DeleteProject(
                projects_pb2.DeleteProjectRequest(id=project.id, cascade=True)
            )
            left = [p.pid for p in group_members(pid)]
            alive = psutil.pid_exists(pid)
        finally:
            kill_group(pid)
        events = watch.until_deleted(task.id)
    activity = srv.system.GetActivity(system_pb2.GetActivityRequest())

    assert answer.deleted_tasks == 1 + len(watch.probes)
    assert [(e.from_status, e.to_status, e.deleted) for e in events] == [
        (UNSPECIFIED, PENDING, False),
        (PENDING, RUNNING, False),
        (RUNNING, CANCELLED, False),
        (CANCELLED, CANCELLED, True),
    ]
    assert events[2].reason == "deleted with its project"
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert sum(m.cancelled for m in activity.minutes) == 1
    assert (left, alive) == ([], False)
