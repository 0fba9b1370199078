"""The CLI's settings: flags > TASK_QUEUE_* variables > config file > defaults.

Every test runs with HOME and XDG_CONFIG_HOME in a temporary directory (see
conftest.py), so the real ~/.config is never read or written.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from taskqueue.cli import main, output
from taskqueue.cli.settings import (
    SETTINGS,
    config_path,
    default_document,
    mask,
    resolve,
)
from taskqueue.errors import ValidationError
from tests.cli.fakes import FakeBackend, make_task

SEED_FILE = """\
server:
  url: "http://localhost:16080"
  api_key: null
  timeout: 30
  retry_attempts: 3

ui:
  theme: "Default"
  refresh_interval: 1
  show_progress: true

output:
  default_format: "Table"
  table_style: "Default"
  colors: true
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def show(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    code, out, err = run(capsys, *flags, "config", "show", "--format", "json")
    assert code == 0, err
    shown: dict[str, Any] = json.loads(out)
    return shown


def test_the_file_lives_under_xdg_config_home_else_home(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/h"}) == (
        tmp_path / "task-queue" / "config.yaml"
    )
    assert config_path({"HOME": "/h"}) == Path("/h/.config/task-queue/config.yaml")
    assert config_path({"XDG_CONFIG_HOME": "relative", "HOME": "/h"}) == Path(
        "/h/.config/task-queue/config.yaml"
    )


def test_the_tests_never_see_the_real_config(_private_config: Path) -> None:
    assert config_path().is_relative_to(_private_config)
    assert os.environ["HOME"] == str(_private_config)


def test_the_seeds_config_file_is_read_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config(SEED_FILE)

    shown = show(capsys)

    assert shown["config_file"] == str(path)
    assert shown["config_file_exists"] is True
    settings = shown["settings"]
    assert settings["server.url"] == {
        "value": "http://localhost:16080",
        "source": "config file",
    }
    assert settings["server.api_key"] == {"value": None, "source": "default"}
    assert settings["ui.theme"] == {"value": "default", "source": "config file"}
    assert shown["server"] == "localhost:16081"
    effective = resolve({}, os.environ, path)
    assert effective["output.default_format"] == "table"
    assert effective.sources["output.default_format"] == "config file"


def test_flags_beat_the_environment_which_beats_the_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config("server:\n  timeout: 5\n  retry_attempts: 1\n  url: h-file:1\n")
    monkeypatch.setenv("TASK_QUEUE_TIMEOUT", "7")
    monkeypatch.setenv("TASK_QUEUE_SERVER_URL", "h-env:2")

    settings = show(capsys, "--timeout", "9")["settings"]

    assert settings["server.timeout"] == {"value": 9.0, "source": "flag --timeout"}
    assert settings["server.url"] == {
        "value": "h-env:2",
        "source": "env TASK_QUEUE_SERVER_URL",
    }
    assert settings["server.retry_attempts"] == {"value": 1, "source": "config file"}
    assert settings["ui.refresh_interval"] == {"value": 1.0, "source": "default"}


def test_the_settings_reach_the_client(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_config(
        "server:\n  url: http://file:1\n  api_key: from-file\n  timeout: 4\n"
        "  retry_attempts: 0\n"
    )
    run(capsys, "tasks", "list")
    monkeypatch.setenv("TASK_QUEUE_RETRY_ATTEMPTS", "5")
    run(capsys, "--api-key", "from-flag", "--timeout", "2.5", "tasks", "list")

    assert backend.connections == [
        {"url": "http://file:1", "api_key": "from-file"},
        {"url": "http://file:1", "api_key": "from-flag"},
    ]
    assert backend.options == [
        {"timeout": 4.0, "retries": 0},
        {"timeout": 2.5, "retries": 5},
    ]


def test_the_default_format_comes_from_the_file_and_a_flag_wins(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["list_tasks"] = [make_task()]
    write_config("output:\n  default_format: JSON\n")

    _, from_file, _ = run(capsys, "tasks", "list")
    _, from_flag, _ = run(capsys, "tasks", "list", "--format", "yaml")

    assert json.loads(from_file)[0]["name"] == "build"
    assert yaml.safe_load(from_flag)[0]["name"] == "build"


def test_the_api_key_is_never_shown_in_clear(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config("server:\n  api_key: file-secret-abcdef\n")
    monkeypatch.setenv("TASK_QUEUE_API_KEY", "env-secret-123456")

    code, table, _ = run(capsys, "config", "show")
    _, as_json, _ = run(capsys, "config", "show", "-o", "json")
    _, as_yaml, _ = run(capsys, "--api-key", "short", "config", "show", "-o", "yaml")

    assert code == 0
    for out in (table, as_json, as_yaml):
        assert "secret" not in out
        assert "short" not in out
    assert "********3456" in table
    assert json.loads(as_json)["settings"]["server.api_key"]["value"] == (
        "********3456"
    )
    assert yaml.safe_load(as_yaml)["settings"]["server.api_key"] == {
        "value": "********",
        "source": "flag --api-key",
    }


def test_mask_shows_at_most_the_last_four_characters_of_a_long_key() -> None:
    assert mask(None) is None
    assert mask("") is None
    assert mask("abc") == "********"
    assert mask("0123456789ab") == "********89ab"


def test_config_show_names_the_file_and_every_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "config", "show")

    assert (code, err) == (0, "")
    assert out.startswith(f"config file: {config_path()} (not found; defaults apply)")
    for setting in SETTINGS:
        assert f"\n{setting.key} " in out
        assert setting.env in out


def test_reset_asks_first_and_writes_every_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config("server:\n  timeout: 5\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))

    declined = run(capsys, "config", "reset")
    unchanged = path.read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    no_answer = run(capsys, "config", "reset")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    accepted = run(capsys, "config", "reset")

    assert declined[0] == no_answer[0] == 1
    assert "Replace" in declined[2]
    assert declined[2].endswith("Nothing changed.\n")
    assert unchanged == "server:\n  timeout: 5\n"
    assert accepted[:2] == (0, f"Wrote the default settings to {path}.\n")
    assert yaml.safe_load(path.read_text()) == default_document()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reset_with_yes_asks_nothing_and_fixes_a_broken_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config("server: [unclosed\n")
    broken = run(capsys, "tasks", "list")

    code, _, err = run(capsys, "config", "reset", "--yes")

    assert broken[0] == 1
    assert broken[2].startswith(f"Error: config file {path}: not valid YAML")
    assert "`task-queue config reset`" in broken[2]
    assert (code, err) == (0, "")
    assert show(capsys)["settings"]["server.timeout"]["source"] == "config file"


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("env", "soon", "TASK_QUEUE_TIMEOUT: 'soon' is not a number of seconds > 0."),
        ("env", "-1", "TASK_QUEUE_TIMEOUT: '-1' is not a number of seconds > 0."),
        ("file", "zero", "server.timeout: 'zero' is not a number of seconds > 0."),
    ],
)
def test_a_bad_value_is_one_error_line_naming_its_source(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    value: str,
    message: str,
) -> None:
    if where == "env":
        monkeypatch.setenv("TASK_QUEUE_TIMEOUT", value)
    else:
        write_config(f"server:\n  timeout: {value}\n")

    code, _, err = run(capsys, "tasks", "list")

    assert code == 1
    assert err.endswith(message + "\n")
    assert len(err.splitlines()) == 1


def test_a_bad_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--timeout", "0", "tasks", "list")

    assert code == 2
    assert "--timeout" in err


def test_an_unknown_key_in_the_file_is_a_warning(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config("ui:\n  them: dark\n")

    code, _, err = run(capsys, "tasks", "list")

    assert code == 0
    assert "'ui.them' is not a setting" in err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("Off", False), ("1", True), (False, False)],
)
def test_switches_read_the_usual_words(raw: Any, expected: bool) -> None:
    settings = resolve({}, {"TASK_QUEUE_SHOW_PROGRESS": str(raw)}, Path("/none"))
    from_file = resolve({"output.colors": raw}, {}, Path("/none"))

    assert settings["ui.show_progress"] is expected
    assert from_file["output.colors"] is expected


def test_a_bad_switch_names_its_variable() -> None:
    with pytest.raises(ValidationError, match="TASK_QUEUE_COLORS: 'blue'"):
        resolve({}, {"TASK_QUEUE_COLORS": "blue"}, Path("/none"))


def test_colours_and_table_style_shape_terminal_tables(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend.answers["list_tasks"] = [make_task(status="failed")]
    drawn: list[tuple[bool, str]] = []
    real = output._emit_table

    def spy(*args: Any, **kwargs: Any) -> None:
        drawn.append((output.STYLE.colors, output.STYLE.table_style))
        real(*args, **kwargs)

    monkeypatch.setattr(output, "_emit_table", spy)
    write_config("output:\n  colors: false\n  table_style: ASCII\n")
    run(capsys, "tasks", "list")
    run(capsys, "--color", "--table-style", "rounded", "tasks", "list")
    monkeypatch.setenv("TASK_QUEUE_THEME", "monochrome")
    run(capsys, "--color", "tasks", "list")

    assert drawn == [(False, "ascii"), (True, "rounded"), (False, "ascii")]
