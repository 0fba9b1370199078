"""Assemble and run the server: settings, logging, actors, gRPC.

The only module that imports every layer. The CLI's ``serve`` command
imports it lazily so that ``import taskqueue`` stays light.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import grpc
import uvicorn

from tq_actors import RocksStore, SystemConfig, TaskQueueSystem
from tq_grpc.server import BindError, add_services, bind_server
from tq_grpc.settings import Settings, SettingsError, dialable_host, load_settings
from tq_mcp import add_mcp_route, close_mcp_streams
from tq_rest import close_streams, create_app
from tq_ui import add_dashboard

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
SHUTDOWN_GRACE_SECONDS = 5.0
# Server settings (the API key among them) never reach task commands.
_PRIVATE_ENV_PREFIXES = ("TASK_QUEUE_",)


def serve(flags: Mapping[str, Any], config_file: Path | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; return the exit code."""
    try:
        settings = load_settings(flags, config_file=config_file)
    except SettingsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.log_format)
    for key in settings.unknown_config_keys:
        logger.warning("Configuration: config.yml sets %r, which is no setting", key)
    refusal = _refuse_exposure(settings)
    if refusal:
        print(f"Error: {refusal}", file=sys.stderr)
        return EXIT_USAGE

    data_dir = settings.data_dir.resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = _lock_data_dir(data_dir)
    except OSError as exc:
        print(
            f"Error: cannot use the data directory {data_dir}: {exc.strerror}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if lock is None:
        return EXIT_FAILED
    try:
        return _run(settings)
    finally:
        lock.close()


def configure_logging(level: str, fmt: str) -> None:
    """Configure the root logger once: text or one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _run(settings: Settings) -> int:
    return asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    try:
        http_socket = _bind_http(settings.host, settings.port)
        server, port = bind_server(
            host=settings.host, port=settings.grpc_port, api_key=settings.api_key
        )
    except (BindError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        store = RocksStore(settings.db_path)
    except Exception as exc:
        print(
            f"Error: cannot open the database at {settings.db_path}: {exc}",
            file=sys.stderr,
        )
        http_socket.close()
        return EXIT_FAILED
    system = TaskQueueSystem(
        store,
        SystemConfig(
            log_dir=settings.log_dir,
            slots=settings.slots,
            kill_grace_seconds=settings.kill_grace_seconds,
            log_cap_bytes=settings.log_cap_bytes,
            base_env=task_environment(os.environ),
        ),
    )
    try:
        await add_services(server, system)
        await server.start()
        target = f"{dialable_host(settings.host)}:{port}"
        return await _serve_until_signalled(server, http_socket, settings, target)
    finally:
        system.stop()


def task_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the server's environment without its own settings and secrets."""
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith(_PRIVATE_ENV_PREFIXES)
    }


async def _serve_until_signalled(
    server: grpc.aio.Server,
    http_socket: socket.socket,
    settings: Settings,
    grpc_target: str,
) -> int:
    try:
        http = _http_server(
            settings, grpc_target=grpc_target, port=http_socket.getsockname()[1]
        )
    except Exception:
        logger.exception("Task queue: the HTTP adapter could not be built")
        await server.stop(None)
        return EXIT_FAILED
    serving_http = asyncio.create_task(http.serve(sockets=[http_socket]))
    logger.info(
        "Task queue: serving HTTP on %s:%d and gRPC on %s; data in %s",
        settings.host,
        http_socket.getsockname()[1],
        grpc_target,
        settings.data_dir.resolve(),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    serving_http.add_done_callback(lambda _: stop.set())
    await stop.wait()
    logger.info("Task queue: stopping")
    close_streams(http.config.app)
    close_mcp_streams(http.config.app)
    http.should_exit = True
    await serving_http
    await server.stop(SHUTDOWN_GRACE_SECONDS)
    return EXIT_OK


def _bind_http(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections
    # only for sockets that say so, and without it every response waits out
    # a 40 ms delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: this module owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the asyncio loop's handlers."""
        yield


def _http_server(settings: Settings, *, grpc_target: str, port: int) -> uvicorn.Server:
    app = create_app(grpc_target=grpc_target, settings=settings)
    # MCP at /mcp of the same app: its API-key guard and limits cover it.
    add_mcp_route(
        app,
        grpc_target=grpc_target,
        api_key=settings.api_key,
        host=settings.host,
        port=port,
        log_level=settings.log_level,
    )
    # The dashboard's mount is a catch-all: it comes after every other route.
    add_dashboard(app, grpc_target=grpc_target, settings=settings)
    config = uvicorn.Config(
        app,
        loop="asyncio",
        http="httptools",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS),
    )
    return _HttpServer(config)


def _lock_data_dir(data_dir: Path) -> TextIO | None:
    """Hold an exclusive lock on the data directory for this process's life."""
    path = data_dir / "server.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        print(
            f"Error: another task-queue server (pid {holder}) is already using "
            f"the data directory {data_dir}; stop it or choose another "
            "--data-dir.",
            file=sys.stderr,
        )
        return None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _refuse_exposure(settings: Settings) -> str:
    """Explain why a bind address is refused, or return an empty string."""
    try:
        loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = settings.host == "localhost"
    if loopback or settings.api_key or settings.insecure:
        return ""
    return (
        f"refusing to listen on {settings.host} without an API key: the server "
        "runs shell commands. Set TASK_QUEUE_API_KEY (or --api-key), bind "
        "127.0.0.1, or pass --insecure to accept unauthenticated remote access."
    )


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)
