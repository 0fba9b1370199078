"""Options every command shares, the state they fill, and the exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

import click

from taskqueue.cli import output
from taskqueue.cli.settings import (
    BY_KEY,
    FORMATS,
    TABLE_STYLES,
    THEMES,
    Effective,
    resolve,
)
from taskqueue.client import TaskQueueClient
from taskqueue.errors import ValidationError
from taskqueue.models import CONDITIONS, Dependency, aware_time

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """What the ``task-queue`` process returns."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


@dataclass
class CliState:
    """What the global options say; commands read it through ``pass_state``.

    ``flags`` holds the settings given on the command line, by config key;
    the settings in force (flags > environment > config file > defaults)
    are read once, when a command first needs them.
    """

    flags: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    _settings: Effective | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # One state per invocation: tables start from the default style.
        output.use_style()

    @property
    def settings(self) -> Effective:
        """Return the settings in force, reading them on first use.

        Raises:
            ValidationError: a flag, variable or the config file holds a
                value that cannot be used; the message names it.
        """
        if self._settings is None:
            self._settings = resolve(self.flags)
            output.use_style(
                colors=self._settings["output.colors"]
                and self._settings["ui.theme"] != "monochrome",
                table_style=self._settings["output.table_style"],
            )
            for key in self._settings.unknown:
                click.echo(
                    f"Warning: config file {self._settings.path}: {key!r} is not "
                    "a setting (see `task-queue config show`).",
                    err=True,
                )
        return self._settings

    @property
    def server_url(self) -> str | None:
        """Return the server URL in force, or None for the server's settings."""
        url: str | None = self.settings["server.url"]
        return url

    @property
    def api_key(self) -> str | None:
        """Return the API key in force, if any."""
        key: str | None = self.settings["server.api_key"]
        return key

    @property
    def output_format(self) -> str:
        """Return table, json or yaml."""
        chosen: str = self.settings["output.default_format"]
        return chosen

    @property
    def show_progress(self) -> bool:
        """Return whether waits may draw a progress display (on a terminal)."""
        return bool(self.settings["ui.show_progress"])

    @property
    def poll_interval(self) -> float:
        """Return the longest pause between polls while waiting."""
        return float(self.settings["ui.refresh_interval"])

    def client(self) -> TaskQueueClient:
        """Return a client for the server the settings name."""
        settings = self.settings
        return TaskQueueClient(
            self.server_url,
            api_key=self.api_key,
            timeout=settings["server.timeout"],
            retries=settings["server.retry_attempts"],
        )


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _state(ctx: click.Context) -> CliState:
    return ctx.ensure_object(CliState)


def _setter(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def remember(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None and value != ():
            _state(ctx).flags[key] = value

    return remember


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if value:
        _state(ctx).verbose = True
        logging.basicConfig(
            level=logging.DEBUG,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def format_option(func: F) -> F:
    """Add ``--format``, accepted before and after sub-commands alike."""
    return click.option(
        "--format",
        "-o",
        type=click.Choice(FORMATS, case_sensitive=False),
        expose_value=False,
        callback=_setter("output.default_format"),
        help="Output format: table, json or yaml (env TASK_QUEUE_FORMAT; "
        "config output.default_format; default table).",
    )(func)


def _setting_option(key: str, **extra: Any) -> Callable[[F], F]:
    """Add the flag of one setting; it wins over the environment and the file."""
    setting = BY_KEY[key]
    return click.option(
        setting.flag,
        default=None,
        expose_value=False,
        callback=_setter(key),
        help=f"{setting.help[0].upper()}{setting.help[1:]} "
        f"(env {setting.env}; config {key}).",
        **extra,
    )


def global_options(func: F) -> F:
    """Add the options that name the server and shape the output."""
    decorators = (
        _setting_option("server.url"),
        _setting_option("server.api_key"),
        _setting_option(
            "server.timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
        ),
        _setting_option("server.retry_attempts", type=click.IntRange(0, 100)),
        format_option,
        _setting_option("output.colors"),
        _setting_option(
            "output.table_style", type=click.Choice(TABLE_STYLES, case_sensitive=False)
        ),
        _setting_option("ui.theme", type=click.Choice(THEMES, case_sensitive=False)),
        _setting_option("ui.show_progress"),
        _setting_option(
            "ui.refresh_interval",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
        ),
        click.option(
            "--verbose",
            "-v",
            is_flag=True,
            expose_value=False,
            callback=_set_verbose,
            help="Log at DEBUG and show tracebacks of errors.",
        ),
    )
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def parse_env(
    _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Turn repeated ``KEY=VALUE`` values into a dict."""
    env: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param=param)
        env[key] = value
    return env


def parse_dependencies(
    _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[Dependency, ...]:
    """Turn repeated ``ID[:CONDITION]`` values into dependencies (success edges)."""
    found = []
    for item in values:
        task_id, sep, condition = item.strip().rpartition(":")
        if not sep:
            task_id, condition = condition, "success"
        condition = condition.lower()
        if not task_id or condition not in CONDITIONS:
            raise click.BadParameter(
                f"{item!r} is not ID or ID:CONDITION with CONDITION one of "
                + ", ".join(CONDITIONS),
                param=param,
            )
        found.append(Dependency(task_id, condition))
    return tuple(found)


def parse_time(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """Read an RFC 3339 time with its UTC offset, e.g. 2026-01-02T15:04:05Z."""
    if value is None:
        return None
    try:
        return aware_time(value, param.name or "time")
    except ValidationError as exc:
        message = str(exc).partition(": ")[2] or str(exc)
        raise click.BadParameter(message, param=param) from None
