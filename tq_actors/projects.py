"""ProjectActor: owns project records and tells the scheduler their limits."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from concurrent.futures import Future

from tq_actors.actor import Actor, Durable, Handle
from tq_actors.errors import FailedPrecondition, InvalidArgument, ProjectNotFound
from tq_actors.models import (
    Project,
    ProjectChanges,
    ProjectSpec,
    ProjectStatus,
    ServerEvent,
    ServerEventKind,
)
from tq_actors.scheduler import ProjectLimit
from tq_actors.store import Op, Store
from tq_actors.store import keys as k
from tq_actors.store.codec import decode_project, encode_project

logger = logging.getLogger(__name__)


class ProjectActor(Actor):
    """Creates, changes and deletes projects; every project lives in memory."""

    def __init__(self, *, store: Store, scheduler: Handle, bus: Handle) -> None:
        super().__init__()
        self._store = store
        self._scheduler = scheduler
        self._bus = bus
        self._projects: dict[str, Project] = {}
        self._seq = 0
        # Projects whose cascading delete runs: no project goes under them.
        self._closed: set[str] = set()

    def on_start(self) -> None:
        """Load every project and tell the scheduler their limits."""
        last = self._store.last_key("idx_projects")
        self._seq = k.read_u64(last) if last else 0
        after = None
        while True:
            chunk = self._store.scan("projects", b"", after=after, limit=10_000)
            for _, raw in chunk:
                project = decode_project(raw)
                self._projects[project.id] = project
                self._tell_limit(project)
            if len(chunk) < 10_000:
                break
            after = chunk[-1][0]

    def create(self, spec: ProjectSpec) -> Durable:
        """Store a new project."""
        self._check_parent(spec.parent_id, None)
        now = time.time()
        self._seq += 1
        project = Project(
            id=str(uuid.uuid4()),
            seq=self._seq,
            name=spec.name,
            description=spec.description,
            status=spec.status,
            parent_id=spec.parent_id,
            tags=spec.tags,
            max_parallel=spec.max_parallel,
            coverage_threshold=spec.coverage_threshold or 0.0,
            required_reviews=spec.required_reviews or 0,
            created_at=now,
            updated_at=now,
        )
        self._projects[project.id] = project
        ops: list[Op] = [
            ("projects", k.uid(project.id), encode_project(project)),
            ("idx_projects", k.u64(project.seq), k.uid(project.id)),
        ]
        self._tell_limit(project)
        logger.info("Project %r: created", project.id)
        kind = ServerEventKind.PROJECT_CREATED
        return Durable(project, self._commit(ops, kind, now, project.id))

    def update(self, project_id: str, changes: ProjectChanges) -> Durable:
        """Change a project's fields; a new limit or hold applies at once."""
        project = self._require(project_id)
        values = {
            name: value
            for name, value in dataclasses.asdict(changes).items()
            if value is not None
        }
        if "tags" in values:
            values["tags"] = tuple(values["tags"])
        if "parent_id" in values:
            self._check_parent(values["parent_id"], project_id)
        now = time.time()
        updated = dataclasses.replace(project, **values, updated_at=now)
        self._projects[project_id] = updated
        self._tell_limit(updated)
        ops: list[Op] = [("projects", k.uid(project_id), encode_project(updated))]
        logger.info("Project %r: updated (%s)", project_id, ", ".join(sorted(values)))
        if not values:
            # Nothing changed but updated_at: no event for watchers.
            return Durable(updated, self._store.commit(ops))
        ticket = self._commit(ops, ServerEventKind.PROJECT_UPDATED, now, project_id)
        return Durable(updated, ticket)

    def delete(self, project_id: str, has_tasks: bool) -> Durable:
        """Delete a project without tasks or child projects."""
        project = self._require(project_id)
        if has_tasks:
            raise FailedPrecondition(
                f"Project {project_id} still has tasks; delete them first or "
                "ask for a cascading delete."
            )
        self.check_childless(project_id)
        del self._projects[project_id]
        self._scheduler.tell("forget_project", project_id)
        ops: list[Op] = [
            ("projects", k.uid(project_id), None),
            ("idx_projects", k.u64(project.seq), None),
        ]
        logger.info("Project %r: deleted", project_id)
        ticket = self._commit(
            ops, ServerEventKind.PROJECT_DELETED, time.time(), project_id
        )
        return Durable(project_id, ticket)

    def close(self, project_id: str) -> None:
        """Refuse child projects under a project until ``reopen``.

        Raises FailedPrecondition if it has some already: a cascading delete
        checks this before it deletes any task.
        """
        self._require(project_id)
        self.check_childless(project_id)
        self._closed.add(project_id)

    def reopen(self, project_id: str) -> None:
        """Let projects go under a project again (its delete is over)."""
        self._closed.discard(project_id)

    def check_childless(self, project_id: str) -> None:
        """Raise FailedPrecondition if a project has child projects."""
        children = [p.id for p in self._projects.values() if p.parent_id == project_id]
        if children:
            raise FailedPrecondition(
                f"Project {project_id} has {len(children)} child project(s); "
                "delete or move them first."
            )

    def _commit(
        self, ops: list[Op], kind: ServerEventKind, now: float, project_id: str = ""
    ) -> Future[None]:
        """Commit ops; once durable, publish the change as a server event."""
        ticket = self._store.commit(ops)
        event = ServerEvent(kind=kind, at=now, project_id=project_id)
        bus = self._bus
        ticket.add_done_callback(
            lambda t: None if t.exception() else bus.tell("publish_server", [event])
        )
        return ticket

    def count(self) -> int:
        """Return how many projects exist."""
        return len(self._projects)

    def _require(self, project_id: str) -> Project:
        project = self._projects.get(project_id)
        if project is None:
            raise ProjectNotFound(project_id)
        return project

    def _check_parent(self, parent_id: str, project_id: str | None) -> None:
        if not parent_id:
            return
        self._require(parent_id)
        if parent_id in self._closed:
            raise FailedPrecondition(f"Project {parent_id} is being deleted.")
        ancestor: str = parent_id
        while ancestor:
            if ancestor == project_id:
                raise InvalidArgument(
                    "parent_id", "a project cannot be nested inside itself."
                )
            ancestor = self._projects[ancestor].parent_id

    def _tell_limit(self, project: Project) -> None:
        limit = ProjectLimit(
            max_parallel=project.max_parallel,
            on_hold=project.status is ProjectStatus.ON_HOLD,
        )
        self._scheduler.tell("set_project", project.id, limit)
