"""The adapter's pure parts: argument types, log slices, the host guard."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from tq_mcp.arguments import Dependency, Text, problems_of
from tq_mcp.http import transport_security
from tq_mcp.tools.tasks import complete_utf8_prefix


def _problems(kind: object, value: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    return problems_of(caught.value)


def test_a_lone_surrogate_is_refused_before_it_reaches_protobuf() -> None:
    assert _problems(Text, "a\ud800") == [
        "arguments: must be valid Unicode (it holds a lone surrogate)"
    ]


def test_a_dependency_is_a_task_id_or_an_object() -> None:
    adapter = TypeAdapter(Dependency)

    assert adapter.validate_python("t1").task_id == "t1"
    assert adapter.validate_python({"task_id": "t", "condition": "failure"}).condition
    assert _problems(Dependency, 3) == [
        "arguments: must be a task id, or an object with task_id and condition"
    ]
    assert _problems(Dependency, {"task_id": "t", "condition": "x"}) == [
        "condition: must be 'success', 'failure' or 'completion'"
    ]


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (b"", 0),
        (b"abc", 3),
        ("é".encode(), 2),
        ("é".encode()[:1], 0),
        (b"a" + "€".encode()[:2], 1),
        (b"a" + "𝄞".encode()[:3], 1),
        (b"a" + "𝄞".encode(), 5),
        (b"a\x80", 2),  # a stray continuation byte is not held back
        (b"a\xff", 2),
    ],
)
def test_a_log_slice_holds_back_only_a_character_cut_at_its_end(
    data: bytes, kept: int
) -> None:
    assert complete_utf8_prefix(data) == kept


def test_a_loopback_bind_accepts_every_loopback_name_on_its_port() -> None:
    guard = transport_security("127.0.0.1", 16080)

    assert guard.enable_dns_rebinding_protection
    assert guard.allowed_hosts == ["127.0.0.1:16080", "[::1]:16080", "localhost:16080"]
    assert "http://localhost:16080" in guard.allowed_origins


def test_another_bind_accepts_only_its_own_address() -> None:
    guard = transport_security("10.1.2.3", 8080)

    assert guard.allowed_hosts == ["10.1.2.3:8080"]


def test_a_log_slice_of_invalid_bytes_is_cut_to_fit_the_limit() -> None:
    from tq_mcp.tools.tasks import fitting_prefix

    data = b"\xc3" * 65_536
    kept = fitting_prefix(data, len(data), 65_536)

    assert len(data[:kept].decode("utf-8", "replace").encode()) <= 65_536
    assert kept == 65_536 // 3
    assert fitting_prefix(b"plain text", 10, 65_536) == 10
