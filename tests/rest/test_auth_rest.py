"""With an API key set, REST and gRPC both require it; /health stays open."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.rest.live import RestServer, error_of, start_rest_server, wait_until
from tests.server_process import CHANNEL_OPTIONS
from tq_grpc._gen import system_pb2, system_pb2_grpc

KEY = "correct-horse-battery-staple"
SAMPLE_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return a server that requires KEY."""
    server = start_rest_server(tmp_path_factory.mktemp("keyed"), api_key=KEY)
    try:
        yield server
    finally:
        server.terminate()


def _operations(server: RestServer) -> list[tuple[str, str]]:
    with server.client() as client:
        document = client.get("/openapi.json").json()
    return [
        (method.upper(), path.replace("{id}", SAMPLE_ID))
        for path, operations in document["paths"].items()
        for method in operations
    ]


def test_every_route_but_health_is_401_without_a_valid_key(keyed: RestServer) -> None:
    operations = [*_operations(keyed), ("GET", "/openapi.json")]

    for key in ("", "wrong", KEY + "x"):
        with keyed.client(key=key) as client:
            client.headers.pop("Authorization", None)
            if key:
                client.headers["X-API-Key"] = key
            for method, path in operations:
                response = client.request(method, path)
                if path == "/health":
                    assert response.status_code == 200
                    continue
                assert response.status_code == 401, (method, path, key)
                assert error_of(response)["code"] == "unauthenticated"
                assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_bearer_token_or_an_x_api_key_header_is_accepted(
    keyed: RestServer,
) -> None:
    with keyed.client() as bearer, keyed.client(key="") as plain:
        by_bearer = bearer.get("/tasks")
        by_header = plain.get("/tasks", headers={"X-API-Key": KEY})
        lowercase_scheme = plain.get(
            "/stats", headers={"Authorization": f"bearer {KEY}"}
        )
        created = bearer.post("/tasks", json={"name": "authorized"})

    assert by_bearer.status_code == 200
    assert by_header.status_code == 200
    assert lowercase_scheme.status_code == 200
    assert created.status_code == 201


def test_one_right_key_is_enough_whichever_header_carries_it(
    keyed: RestServer,
) -> None:
    with keyed.client(key="") as plain:
        right_bearer = plain.get(
            "/stats",
            headers={"Authorization": f"Bearer {KEY}", "X-API-Key": "wrong"},
        )
        right_header = plain.get(
            "/stats", headers={"Authorization": "Bearer wrong", "X-API-Key": KEY}
        )
        both_wrong = plain.get(
            "/stats", headers={"Authorization": "Bearer wrong", "X-API-Key": "no"}
        )

    assert (right_bearer.status_code, right_header.status_code) == (200, 200)
    assert both_wrong.status_code == 401


def test_health_shows_details_only_to_a_caller_with_the_key(
    keyed: RestServer,
) -> None:
    with keyed.client(key="") as anonymous, keyed.client() as known:
        public = anonymous.get("/health")
        wrong = anonymous.get("/health", headers={"Authorization": "Bearer nope"})
        detailed = known.get("/health")

    assert public.status_code == 200
    assert public.json() == {"status": "ok"}
    assert wrong.json() == {"status": "ok"}
    assert detailed.json()["status"] == "ok"
    assert {"version", "uptime_seconds"} <= set(detailed.json())


def test_openapi_declares_the_key_and_leaves_health_open(keyed: RestServer) -> None:
    with keyed.client() as client:
        document = client.get("/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["apiKey"]["name"] == "X-API-Key"
    assert document["paths"]["/health"]["get"]["security"] == []


def test_grpc_without_the_key_is_unauthenticated_and_with_it_ok(
    keyed: RestServer,
) -> None:
    with grpc.insecure_channel(keyed.target, options=CHANNEL_OPTIONS) as channel:
        stub = system_pb2_grpc.SystemServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Ping(system_pb2.PingRequest(), timeout=5)
        answer = stub.Ping(
            system_pb2.PingRequest(),
            metadata=(("authorization", f"Bearer {KEY}"),),
            timeout=5,
        )

    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert answer.version


def test_the_key_never_reaches_the_server_log(keyed: RestServer) -> None:
    with keyed.client(key="not-the-key") as client:
        client.get("/tasks")
    with keyed.client() as client:
        client.get("/tasks")

    def logged() -> str | None:
        # The access line is written once the response has been sent.
        text = keyed.stderr_text()
        return text if "tq_rest.access: GET /tasks 200" in text else None

    log = wait_until(logged, what="the access log line")
    assert KEY not in log
    assert "not-the-key" not in log
    assert "tq_rest.access: GET /tasks 401" in log
    assert "tq_rest.access: GET /tasks 200" in log


def test_without_a_configured_key_no_route_asks_for_one(
    rest_server: RestServer,
) -> None:
    with rest_server.client(key="") as client:
        answers = [
            client.request(method, path)
            for method, path in _operations(rest_server)
            if path != "/events"  # streams until closed
        ]

    assert all(a.status_code != 401 for a in answers)
