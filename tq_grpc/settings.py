"""Settings of the server, and where clients find it.

Precedence: command-line flags > ``TASK_QUEUE_*`` environment variables >
``config.yml`` > defaults. Loaded once at start-up; everything below takes
plain keyword arguments.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads at start-up."""

    host: str = "127.0.0.1"
    port: int = 16080
    grpc_port: int = 16081
    data_dir: Path = Path("task-queue-data")
    database_path: Path | None = None
    # Clients import this module too, so it does not import tq_actors.
    slots: int = field(default_factory=lambda: os.cpu_count() or 1)
    kill_grace_seconds: float = 5.0
    log_cap_bytes: int = 16 * 1024 * 1024
    log_level: str = "info"
    log_format: str = "text"
    api_key: str = field(default="", repr=False)
    insecure: bool = False
    enable_metrics: bool = True
    enable_cors: bool = False
    dev_mode: bool = False
    # Keys of config.yml that name no setting (typos, most likely).
    unknown_config_keys: tuple[str, ...] = field(default=(), repr=False)

    @property
    def db_path(self) -> Path:
        """Directory of the RocksDB database."""
        return self.database_path or self.data_dir / "task-queue.db"

    @property
    def log_dir(self) -> Path:
        """Directory of the per-task output logs."""
        return self.data_dir / "logs"


# setting name -> (environment variables, config.yml path)
_SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "host": (("TASK_QUEUE_HOST",), ("server", "host")),
    "port": (("TASK_QUEUE_PORT",), ("server", "port")),
    "grpc_port": (("TASK_QUEUE_GRPC_PORT",), ("server", "grpc_port")),
    "data_dir": (("TASK_QUEUE_DATA_DIR",), ("server", "data_dir")),
    "database_path": (("TASK_QUEUE_DATABASE_PATH",), ("server", "database_path")),
    "slots": (("TASK_QUEUE_SLOTS",), ("runner", "slots")),
    "kill_grace_seconds": (
        ("TASK_QUEUE_KILL_GRACE_SECONDS",),
        ("runner", "kill_grace_seconds"),
    ),
    "log_cap_bytes": (("TASK_QUEUE_LOG_CAP_BYTES",), ("runner", "log_cap_bytes")),
    # RUST_LOG is read for the seed's sake (its levels map onto ours).
    "log_level": (
        ("TASK_QUEUE_LOG_LEVEL", "LOG_LEVEL", "RUST_LOG"),
        ("logging", "level"),
    ),
    "log_format": (("TASK_QUEUE_LOG_FORMAT",), ("logging", "format")),
    "api_key": (("TASK_QUEUE_API_KEY",), ("server", "api_key")),
    "insecure": (("TASK_QUEUE_INSECURE",), ("server", "insecure")),
    "enable_metrics": (
        ("TASK_QUEUE_ENABLE_METRICS",),
        ("development", "enable_metrics"),
    ),
    "enable_cors": (("TASK_QUEUE_ENABLE_CORS",), ("development", "enable_cors")),
    "dev_mode": (("TASK_QUEUE_DEV_MODE",), ("development", "dev_mode")),
}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge flags, environment, config file and defaults into Settings."""
    environ = os.environ if environ is None else environ
    file_values = _read_config(config_file, environ)
    values: dict[str, Any] = {}
    for name, (env_names, file_path) in _SOURCES.items():
        flag = (flags or {}).get(name)
        if flag is not None:
            values[name] = (flag, f"--{name.replace('_', '-')}")
            continue
        env_name = next((n for n in env_names if environ.get(n)), None)
        if env_name is not None:
            values[name] = (environ[env_name], env_name)
            continue
        found = _dig(file_values, file_path)
        if found is not None:
            values[name] = (found, f"config.yml {'.'.join(file_path)}")
    if "port" in values and "grpc_port" not in values:
        # gRPC follows the HTTP port, as clients given an http:// URL expect.
        raw, origin = values["port"]
        values["grpc_port"] = (_coerce("port", raw, origin) + 1, origin)
    if "database_path" in values and "data_dir" not in values:
        raw, origin = values["database_path"]
        values["data_dir"] = (str(Path(str(raw)).parent), origin)
    coerced = {name: _coerce(name, *pair) for name, pair in values.items()}
    return Settings(**coerced, unknown_config_keys=_unknown_keys(file_values))


def _unknown_keys(values: Mapping[str, Any]) -> tuple[str, ...]:
    known = {path for _, path in _SOURCES.values()}
    sections = {section for section, _ in known}
    unknown = []
    for section, keys in values.items():
        if section not in sections or not isinstance(keys, Mapping):
            unknown.append(str(section))
            continue
        unknown += [f"{section}.{k}" for k in keys if (section, k) not in known]
    return tuple(unknown)


def _read_config(path: Path | None, environ: Mapping[str, str]) -> dict[str, Any]:
    if path is None:
        named = environ.get("TASK_QUEUE_CONFIG")
        path = Path(named) if named else Path("config.yml")
        if not named and not path.exists():
            return {}
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"config file {path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"config file {path} must hold a mapping")
    return loaded


def _dig(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(Settings)}


def _coerce(name: str, raw: Any, origin: str) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "bool":
        return _boolean(raw, origin)
    try:
        if kind == "int":
            value: Any = int(raw)
            if value < 0 or (name.endswith("port") and value > 65535):
                raise ValueError
            if name == "slots" and value < 1:
                raise ValueError
            return value
        if kind == "float":
            value = float(raw)
            if not value >= 0:
                raise ValueError
            return value
        if "Path" in kind:
            return Path(str(raw)).expanduser()
    except (TypeError, ValueError):
        raise SettingsError(f"{origin}: {raw!r} is not a valid {name}") from None
    value = str(raw)
    if name == "api_key" and not all(" " < c < "\x7f" for c in value):
        raise SettingsError(
            f"{origin}: an API key must be printable ASCII without spaces"
        )
    if name == "log_level":
        value = _RUST_LEVELS.get(value.lower(), value.lower())
        if value not in ("debug", "info", "warning", "error", "critical"):
            raise SettingsError(f"{origin}: {raw!r} is not a log level")
    if name == "log_format" and value not in ("text", "json"):
        raise SettingsError(f"{origin}: {raw!r} must be text or json")
    return value


_RUST_LEVELS = {"warn": "warning", "trace": "debug", "off": "critical"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _boolean(raw: Any, origin: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{origin}: {raw!r} is not true or false")


def client_target(server_url: str | None, settings: Settings) -> str:
    """Return the gRPC host:port a client should dial.

    ``grpc://host:port`` and ``host:port`` name the gRPC port itself. An
    ``http(s)://host:port`` URL names the HTTP port; gRPC is then reached on
    TASK_QUEUE_GRPC_PORT when set, else on the next port (16080 -> 16081).
    Without a URL, the server's own settings tell the address.
    """
    if not server_url:
        return f"{dialable_host(settings.host)}:{settings.grpc_port}"
    if "://" not in server_url:
        server_url = f"grpc://{server_url}"
    parts = urlsplit(server_url)
    if parts.scheme not in ("grpc", "http", "https") or not parts.hostname:
        raise SettingsError(f"--server-url: {server_url!r} is not a server URL")
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"--server-url: {server_url!r} has a bad port") from None
    host = dialable_host(parts.hostname)
    if parts.scheme == "grpc":
        return f"{host}:{port or 16081}"
    grpc_env = os.environ.get("TASK_QUEUE_GRPC_PORT")
    if grpc_env:
        return f"{host}:{_coerce('grpc_port', grpc_env, 'TASK_QUEUE_GRPC_PORT')}"
    return f"{host}:{(port or 16080) + 1}"


def dialable_host(host: str) -> str:
    """Return an address a local client can dial for a bind address."""
    if host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host
