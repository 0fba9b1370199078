"""Big-endian key encoders: byte order equals the order an index is read in.

Column families and their keys (ids are 16 raw UUID bytes, seq 8 bytes):

    tasks        task id                  -> task record
    events       task id + event seq      -> event record
    idx_created  task seq                 -> task id
    idx_status   status (1) + task seq    -> task id
    idx_priority priority (1) + task seq  -> task id
    idx_project  project id + task seq    -> task id
    idx_project_status project id + status (1) + task seq -> task id
    idx_idem     idempotency key (UTF-8)  -> task id
    idx_dependents dependency id + dependent id -> empty
    projects     project id               -> project record
    idx_projects project seq              -> project id
    workflows    workflow id              -> workflow record
    idx_workflows workflow seq            -> workflow id
    meta         name (ASCII)             -> value
"""

from __future__ import annotations

import struct
import uuid

COLUMN_FAMILIES = (
    "tasks",
    "events",
    "idx_created",
    "idx_status",
    "idx_priority",
    "idx_project",
    "idx_project_status",
    "idx_idem",
    "idx_dependents",
    "projects",
    "idx_projects",
    "workflows",
    "idx_workflows",
    "meta",
)

_U64 = struct.Struct(">Q")


def uid(text: str) -> bytes:
    """Encode a canonical (already validated) UUID string as its 16 bytes."""
    return bytes.fromhex(text.replace("-", ""))


def uid_text(raw: bytes) -> str:
    """Decode 16 UUID bytes to the canonical string."""
    return str(uuid.UUID(bytes=raw))


def u64(value: int) -> bytes:
    """Encode an unsigned integer so that byte order is numeric order."""
    return _U64.pack(value)


def read_u64(raw: bytes) -> int:
    """Decode the last eight bytes of a key as an unsigned integer."""
    return int(_U64.unpack(raw[-8:])[0])


def small(value: int) -> bytes:
    """Encode an enum value as a one-byte prefix."""
    return bytes((value,))


def event_key(task_id: str, seq: int) -> bytes:
    """Key of one history event of a task."""
    return uid(task_id) + u64(seq)
