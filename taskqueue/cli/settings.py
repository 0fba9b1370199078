"""The command line's own settings and where each one came from.

Precedence: command-line flags > ``TASK_QUEUE_*`` environment variables >
the config file > defaults. The config file is
``$XDG_CONFIG_HOME/task-queue/config.yaml`` (``~/.config/task-queue/config.yaml``
when XDG_CONFIG_HOME is unset), in the seed's shape::

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

A null value, like an empty environment variable, leaves the setting to the
next source. Names of choices are read without regard to case.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from taskqueue.errors import ValidationError

FORMATS = ("table", "json", "yaml")
THEMES = ("default", "monochrome")
TABLE_STYLES = ("default", "rounded", "ascii", "plain")

CONFIG_DIR = "task-queue"
CONFIG_FILE = "config.yaml"


def _text(raw: Any, origin: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValidationError(f"{origin}: expected text, got {raw!r}.")
    return str(raw)


def _api_key(raw: Any, origin: str) -> str:
    key = _text(raw, origin)
    if not all(" " < c < "\x7f" for c in key):
        raise ValidationError(
            f"{origin}: an API key must be printable ASCII without spaces."
        )
    return key


def _seconds(raw: Any, origin: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not math.isfinite(value) or value <= 0:
        raise ValidationError(f"{origin}: {raw!r} is not a number of seconds > 0.")
    return value


def _count(raw: Any, origin: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if isinstance(raw, bool | float) or not 0 <= value <= 100:
        raise ValidationError(f"{origin}: {raw!r} is not a whole number from 0 to 100.")
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(raw: Any, origin: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(f"{origin}: {raw!r} is not true or false.")


def _choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(raw: Any, origin: str) -> str:
        text = _text(raw, origin).strip().lower()
        if text not in choices:
            raise ValidationError(
                f"{origin}: {raw!r} is not one of {', '.join(choices)}."
            )
        return text

    return parse


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its config-file key, variable, flag and default."""

    key: str
    env: str
    flag: str
    default: Any
    parse: Callable[[Any, str], Any]
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "server.url",
        "TASK_QUEUE_SERVER_URL",
        "--server-url",
        None,
        _text,
        "server to talk to: http://HOST:PORT, grpc://HOST:PORT or HOST:PORT",
    ),
    Setting(
        "server.api_key",
        "TASK_QUEUE_API_KEY",
        "--api-key",
        None,
        _api_key,
        "API key sent as a bearer token",
        secret=True,
    ),
    Setting(
        "server.timeout",
        "TASK_QUEUE_TIMEOUT",
        "--timeout",
        30.0,
        _seconds,
        "seconds each call may take",
    ),
    Setting(
        "server.retry_attempts",
        "TASK_QUEUE_RETRY_ATTEMPTS",
        "--retry-attempts",
        3,
        _count,
        "retries of a safe call while the server cannot be reached",
    ),
    Setting(
        "ui.theme",
        "TASK_QUEUE_THEME",
        "--theme",
        "default",
        _choice(THEMES),
        "default (coloured statuses) or monochrome",
    ),
    Setting(
        "ui.refresh_interval",
        "TASK_QUEUE_REFRESH_INTERVAL",
        "--refresh-interval",
        1.0,
        _seconds,
        "longest pause between polls of `tasks wait` and `workflows wait`",
    ),
    Setting(
        "ui.show_progress",
        "TASK_QUEUE_SHOW_PROGRESS",
        "--progress/--no-progress",
        True,
        _flag,
        "progress display on stderr while waiting (on a terminal only)",
    ),
    Setting(
        "output.default_format",
        "TASK_QUEUE_FORMAT",
        "--format",
        "table",
        _choice(FORMATS),
        "table, json or yaml",
    ),
    Setting(
        "output.table_style",
        "TASK_QUEUE_TABLE_STYLE",
        "--table-style",
        "default",
        _choice(TABLE_STYLES),
        "default, rounded, ascii or plain (aligned columns, as when piped)",
    ),
    Setting(
        "output.colors",
        "TASK_QUEUE_COLORS",
        "--color/--no-color",
        True,
        _flag,
        "colour tables on a terminal (never when piped; NO_COLOR also turns it off)",
    ),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


def default_document() -> dict[str, dict[str, Any]]:
    """Return the config file ``config reset`` writes: every default."""
    document: dict[str, dict[str, Any]] = {}
    for setting in SETTINGS:
        section, name = setting.key.split(".")
        document.setdefault(section, {})[name] = setting.default
    return document


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return where the config file lives, honouring XDG_CONFIG_HOME.

    A relative XDG_CONFIG_HOME is ignored, as the XDG spec asks.
    """
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME", "")
    if not base or not os.path.isabs(base):
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".config")
    return Path(base) / CONFIG_DIR / CONFIG_FILE


@dataclass(frozen=True, slots=True)
class Effective:
    """The settings in force, each with where it came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    path: Path
    file_found: bool
    # Keys of the config file that name no setting, with a suggestion.
    unknown: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def read_file(path: Path) -> dict[str, Any]:
    """Return the settings of a config file by dotted key; {} when absent.

    Raises:
        ValidationError: the file cannot be read, is not YAML or not a
            mapping of sections; the message names the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"config file {path}: cannot be read: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(
            f"config file {path}: not valid YAML ({exc}); "
            "`task-queue config reset` writes a fresh one."
        ) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"config file {path}: expected sections (server, ui, output), "
            f"got {type(document).__name__}."
        )
    found: dict[str, Any] = {}
    for section, names in document.items():
        if names is None:
            continue
        if not isinstance(names, Mapping):
            found[str(section)] = names
            continue
        for name, value in names.items():
            found[f"{section}.{name}"] = value
    return found


def resolve(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Effective:
    """Merge flags, environment, config file and defaults.

    ``flags`` maps setting keys to the raw values given on the command line.

    Raises:
        ValidationError: a value cannot be used; the message names its
            source (the flag, the variable or the file and key).
    """
    environ = os.environ if environ is None else environ
    path = config_path(environ) if path is None else path
    from_file = read_file(path)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        flag = flags.get(setting.key)
        env = environ.get(setting.env, "")
        in_file = from_file.get(setting.key)
        if flag is not None:
            names = setting.flag.split("/")
            flag_name = names[-1] if flag is False else names[0]
            values[setting.key] = setting.parse(flag, flag_name)
            sources[setting.key] = f"flag {flag_name}"
        elif env:
            values[setting.key] = setting.parse(env, setting.env)
            sources[setting.key] = f"env {setting.env}"
        elif in_file is not None:
            origin = f"config file {path}: {setting.key}"
            values[setting.key] = setting.parse(in_file, origin)
            sources[setting.key] = "config file"
        else:
            values[setting.key] = setting.default
            sources[setting.key] = "default"
    unknown = tuple(sorted(key for key in from_file if key not in BY_KEY))
    return Effective(values, sources, path, path.is_file(), unknown)


def mask(key: str | None) -> str | None:
    """Return an API key fit to print: its last 4 characters at most."""
    if not key:
        return None
    if len(key) < 12:
        return "*" * 8
    return "*" * 8 + key[-4:]


def write_defaults(path: Path) -> None:
    """Write a config file holding every default, readable only by its owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# task-queue command line settings; see `task-queue config show`.\n"
        "# Flags and TASK_QUEUE_* environment variables win over this file.\n"
        + yaml.safe_dump(default_document(), sort_keys=False)
    )
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
