"""`make run`: the REST API and the worker (which starts the embedded Temporal) side by side.

`python -m orders.run` binds the API's address (ORDERS_API_HOST:ORDERS_API_PORT) first, so a taken port
stops everything at once with one line naming it, before a worker or a Temporal starts; then it starts
the API on that socket and the worker, and stops both when either stops (the worker refuses to start,
say, because another Temporal holds the embedded port) or on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

from orders.api.server import CantListen, bind
from orders.settings import SettingsError, load_settings

POLL_SECONDS = 0.2
STOP_SECONDS = 20.0


def say(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr, flush=True)


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as err:
        say(str(err))
        return 2
    host, port = settings.api_host, settings.api_port
    try:
        sock = bind(host, port)
    except CantListen as err:
        say(str(err))
        return 1
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True  # the children got the terminal's Ctrl-C too; SIGTERM is passed on below

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orders.api.server",
            "--host",
            host,
            "--port",
            str(port),
            "--fd",
            str(sock.fileno()),
        ],
        pass_fds=[sock.fileno()],
    )
    sock.close()  # the API holds it now
    worker = subprocess.Popen([sys.executable, "-m", "worker"])
    children = {"the API": api, "the worker": worker}
    first: tuple[str, int] | None = None
    while not stopping:
        exited = [(name, child.returncode) for name, child in children.items() if child.poll() is not None]
        if exited:
            first = exited[0]
            break
        time.sleep(POLL_SECONDS)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if first is not None and first[1] != 0:
        say(f"{first[0]} stopped (exit {first[1]}); stopped everything")
        return 1
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = main()
    sys.stderr.flush()
    os._exit(code)
