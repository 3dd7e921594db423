"""`make run`: the REST API and the worker (which starts the embedded Temporal) side by side.

`python -m orders.run` binds the API's address (ORDERS_API_HOST:ORDERS_API_PORT) first, so a taken port
stops everything at once with one line naming it, before a worker or a Temporal starts; then it starts
the API on that socket and the worker, and stops both when either stops (the worker refuses to start,
say, because another Temporal holds the embedded port) or on Ctrl-C / SIGTERM.

Ctrl-C reaches this process alone: the children run in process groups of their own, so each gets one
SIGTERM from here and nothing from the terminal, and none of them can print a KeyboardInterrupt
traceback whenever the key is pressed (docs/reliability.md, "Stopping").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

POLL_SECONDS = 0.2
STOP_SECONDS = 20.0


def say(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr, flush=True)


def main() -> int:
    stopping = threading.Event()
    # First, so that a Ctrl-C while the rest loads stops the start rather than printing a traceback.
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    from orders.listen import CantListen, bind
    from orders.settings import SettingsError, load_settings

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
    if stopping.is_set():
        return 0
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
        process_group=0,
    )
    sock.close()  # the API holds it now
    worker = subprocess.Popen([sys.executable, "-m", "worker"], process_group=0)
    children = {"the API": api, "the worker": worker}
    first: tuple[str, int] | None = None
    while not stopping.is_set():
        exited = [(name, child.returncode) for name, child in children.items() if child.poll() is not None]
        if exited:
            first = exited[0]
            break
        stopping.wait(POLL_SECONDS)
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
