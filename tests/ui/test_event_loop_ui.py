"""With NiceGUI installed (it brings uvloop), the server keeps the stdlib loop.

Processes must still be spawned from the RunnerActor's thread: uvloop makes
spawning 3-4x slower, and an event loop must never spawn them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.server_process import free_port, server_environment

DRIVER = textwrap.dedent(
    """
    import asyncio, json, os, signal, subprocess, sys, threading, time
    import grpc
    import taskqueue.app as app
    from tq_grpc._gen import tasks_pb2, tasks_pb2_grpc

    seen = {"spawn_threads": [], "loops": []}
    real_popen = subprocess.Popen

    class Recording(real_popen):
        def __init__(self, *args, **kwargs):
            seen["spawn_threads"].append(threading.current_thread().name)
            super().__init__(*args, **kwargs)

    subprocess.Popen = Recording
    real_serve = app._serve

    async def serve(settings):
        loop = asyncio.get_running_loop()
        seen["loops"].append(type(loop).__module__ + "." + type(loop).__name__)
        return await real_serve(settings)

    app._serve = serve

    def drive():
        channel = grpc.insecure_channel(
            "127.0.0.1:" + sys.argv[2], options=[("grpc.enable_http_proxy", 0)]
        )
        stub = tasks_pb2_grpc.TaskServiceStub(channel)
        deadline = time.monotonic() + 30
        while True:
            try:
                task = stub.CreateTask(
                    tasks_pb2.CreateTaskRequest(
                        task=tasks_pb2.TaskSpec(name="t", command="true")
                    ),
                    timeout=2,
                ).task
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        while stub.GetTask(tasks_pb2.GetTaskRequest(id=task.id)).task.status != 4:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=drive, daemon=True).start()
    code = app.serve(
        {
            "port": int(sys.argv[1]),
            "grpc_port": int(sys.argv[2]),
            "data_dir": sys.argv[3],
            "slots": 1,
        }
    )
    print(json.dumps(seen))
    sys.exit(code)
    """
)


def test_tasks_spawn_from_the_runner_thread_on_the_stdlib_loop(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            str(free_port()),
            str(free_port()),
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        env=server_environment(),
        cwd=tmp_path,
        timeout=90,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["loops"] == ["asyncio.unix_events._UnixSelectorEventLoop"], seen
    assert seen["spawn_threads"], "no process was spawned"
    assert all(name.startswith("RunnerActor") for name in seen["spawn_threads"]), seen
