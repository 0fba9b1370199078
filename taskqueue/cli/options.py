"""Options every command shares, the state they fill, and the exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

import click

from taskqueue.client import TaskQueueClient
from taskqueue.errors import ValidationError
from taskqueue.models import CONDITIONS, Dependency, aware_time

FORMATS = ("table", "json", "yaml")

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """What the ``task-queue`` process returns."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


@dataclass
class CliState:
    """What the global options say; commands read it through ``pass_state``."""

    server_url: str | None = None
    api_key: str | None = None
    output_format: str = "table"
    verbose: bool = False

    def client(self) -> TaskQueueClient:
        """Return a client for the server the options name."""
        return TaskQueueClient(self.server_url, api_key=self.api_key)


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _state(ctx: click.Context) -> CliState:
    return ctx.ensure_object(CliState)


def _set_server_url(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if value:
        _state(ctx).server_url = value


def _set_api_key(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if value:
        _state(ctx).api_key = value


def _set_format(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if value:
        _state(ctx).output_format = value


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
        callback=_set_format,
        help="Output format (default: table).",
    )(func)


def global_options(func: F) -> F:
    """Add the options that name the server and shape the output."""
    decorators = (
        click.option(
            "--server-url",
            envvar="TASK_QUEUE_SERVER_URL",
            expose_value=False,
            callback=_set_server_url,
            help=(
                "Server to talk to: grpc://HOST:PORT, HOST:PORT or the HTTP URL "
                "(http://localhost:16080). Default: TASK_QUEUE_HOST and "
                "TASK_QUEUE_GRPC_PORT, else 127.0.0.1:16081."
            ),
        ),
        click.option(
            "--api-key",
            envvar="TASK_QUEUE_API_KEY",
            expose_value=False,
            callback=_set_api_key,
            help="API key sent as a bearer token.",
        ),
        format_option,
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
