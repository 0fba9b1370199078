"""Assemble and run the server: settings, logging, actors, gRPC.

The only module that imports every layer. The CLI's ``serve`` command
imports it lazily so that ``import taskqueue`` stays light.
"""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from tq_actors import RocksStore, SystemConfig, TaskQueueSystem
from tq_grpc.server import BindError, create_server
from tq_grpc.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
SHUTDOWN_GRACE_SECONDS = 5.0


def serve(flags: Mapping[str, Any], config_file: Path | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; return the exit code."""
    try:
        settings = load_settings(flags, config_file=config_file)
    except SettingsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.log_format)
    refusal = _refuse_exposure(settings)
    if refusal:
        print(f"Error: {refusal}", file=sys.stderr)
        return EXIT_USAGE

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_data_dir(data_dir)
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
    try:
        store = RocksStore(settings.db_path)
    except Exception as exc:
        print(
            f"Error: cannot open the database at {settings.db_path}: {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    system = TaskQueueSystem(
        store,
        SystemConfig(
            log_dir=settings.log_dir,
            slots=settings.slots,
            kill_grace_seconds=settings.kill_grace_seconds,
            log_cap_bytes=settings.log_cap_bytes,
            base_env=dict(os.environ),
        ),
    )
    try:
        return asyncio.run(_serve_grpc(system, settings))
    finally:
        system.stop()


async def _serve_grpc(system: TaskQueueSystem, settings: Settings) -> int:
    try:
        server, port = await create_server(
            system,
            host=settings.host,
            port=settings.grpc_port,
            api_key=settings.api_key,
        )
    except BindError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    await server.start()
    logger.info(
        "Task queue: serving gRPC on %s:%d; data in %s",
        settings.host,
        port,
        settings.data_dir.resolve(),
    )
    # TODO: the HTTP port (REST, dashboard, MCP) is not served yet; only gRPC.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    logger.info("Task queue: stopping")
    await server.stop(SHUTDOWN_GRACE_SECONDS)
    return EXIT_OK


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
