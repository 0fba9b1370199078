"""Settings: precedence, validation, and where clients dial."""

from __future__ import annotations

from pathlib import Path

import pytest

from tq_grpc.settings import Settings, SettingsError, client_target, load_settings


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(
        "server:\n  port: 1000\n  grpc_port: 1001\n  host: 127.0.0.2\n"
        "logging:\n  level: warning\n  format: json\n"
        "development:\n  enable_metrics: false\n"
    )
    return path


def test_flags_beat_environment_beat_file_beat_defaults(config: Path) -> None:
    settings = load_settings(
        {"port": 3000},
        environ={"TASK_QUEUE_PORT": "2000", "TASK_QUEUE_GRPC_PORT": "2001"},
        config_file=config,
    )

    assert (settings.port, settings.grpc_port, settings.host) == (
        3000,
        2001,
        "127.0.0.2",
    )
    assert (settings.log_level, settings.log_format) == ("warning", "json")
    assert settings.enable_metrics is False
    assert settings.kill_grace_seconds == Settings().kill_grace_seconds


def test_the_seed_database_path_sets_the_data_directory() -> None:
    settings = load_settings(
        environ={"TASK_QUEUE_DATABASE_PATH": "./data/task-queue.db"},
        config_file=None,
    )

    assert settings.db_path == Path("data/task-queue.db")
    assert settings.log_dir == Path("data/logs")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TASK_QUEUE_PORT": "http"}, "TASK_QUEUE_PORT"),
        ({"TASK_QUEUE_GRPC_PORT": "70000"}, "TASK_QUEUE_GRPC_PORT"),
        ({"TASK_QUEUE_SLOTS": "0"}, "TASK_QUEUE_SLOTS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"TASK_QUEUE_ENABLE_CORS": "maybe"}, "TASK_QUEUE_ENABLE_CORS"),
        ({"TASK_QUEUE_API_KEY": "has space"}, "TASK_QUEUE_API_KEY"),
    ],
)
def test_a_bad_value_is_refused_naming_where_it_came_from(
    environ: dict[str, str], named: str, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("")

    with pytest.raises(SettingsError, match=named):
        load_settings(environ=environ, config_file=empty)


def test_unknown_config_keys_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("serer:\n  port: 1\nserver:\n  prot: 2\n")

    settings = load_settings(environ={}, config_file=path)

    assert settings.unknown_config_keys == ("serer", "server.prot")


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (None, "127.0.0.1:16081"),
        ("http://localhost:16080", "localhost:16081"),
        ("http://localhost", "localhost:16081"),
        ("grpc://10.0.0.1:9000", "10.0.0.1:9000"),
        ("127.0.0.1:7000", "127.0.0.1:7000"),
    ],
)
def test_clients_dial_the_grpc_port(
    url: str | None, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TASK_QUEUE_GRPC_PORT", raising=False)

    assert client_target(url, Settings()) == target


def test_grpc_follows_a_given_http_port() -> None:
    settings = load_settings(environ={"TASK_QUEUE_PORT": "16081"}, config_file=None)

    assert (settings.port, settings.grpc_port) == (16081, 16082)
    both = load_settings(
        environ={"TASK_QUEUE_PORT": "16081", "TASK_QUEUE_GRPC_PORT": "17000"}
    )
    assert both.grpc_port == 17000


def test_rust_log_levels_are_understood() -> None:
    assert load_settings(environ={"RUST_LOG": "debug"}).log_level == "debug"
    assert load_settings(environ={"RUST_LOG": "warn"}).log_level == "warning"
    assert (
        load_settings(environ={"RUST_LOG": "trace", "LOG_LEVEL": "error"}).log_level
        == "error"
    )
