"""The task queue's state and execution: actors on one RocksDB store."""

from tq_actors import validate
from tq_actors.errors import (
    AlreadyExists,
    FailedPrecondition,
    IllegalTransition,
    InvalidArgument,
    NotFound,
    ProjectNotFound,
    TaskNotFound,
    TaskQueueError,
)
from tq_actors.models import (
    Condition,
    Dependency,
    LogChunk,
    Priority,
    Project,
    ProjectChanges,
    ProjectSpec,
    ProjectStatus,
    Stats,
    Task,
    TaskChanges,
    TaskEvent,
    TaskSpec,
    TaskStatus,
)
from tq_actors.store import MemoryStore, RocksStore, Store
from tq_actors.system import SystemConfig, TaskQueueSystem

__all__ = [
    "AlreadyExists",
    "Condition",
    "Dependency",
    "FailedPrecondition",
    "IllegalTransition",
    "InvalidArgument",
    "LogChunk",
    "MemoryStore",
    "NotFound",
    "Priority",
    "Project",
    "ProjectChanges",
    "ProjectNotFound",
    "ProjectSpec",
    "ProjectStatus",
    "RocksStore",
    "Stats",
    "Store",
    "SystemConfig",
    "Task",
    "TaskChanges",
    "TaskEvent",
    "TaskNotFound",
    "TaskQueueError",
    "TaskQueueSystem",
    "TaskSpec",
    "TaskStatus",
    "validate",
]
