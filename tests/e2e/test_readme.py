"""The README's examples, run verbatim top to bottom against a real service, as a reader would run them.

Every fenced block after an `<!-- example -->` marker in README.md and docs/*.md is run, in order, by
bash in a scratch directory laid out like a checkout (`.venv` and a Makefile that includes the real one),
as a reader's second terminal runs it: the shell's own PATH, without `.venv/bin` (the README says to
`source .venv/bin/activate`, and that step, like the exports and variables the examples set, stays in
force for the later steps), and no ORDERS_* or TEMPORAL_* variable. The marker says what must be running
first (`service=` `up`, the default: `make run`; `no-worker`: Temporal alone; `worker`: Temporal and a
worker, no API; `down`: nothing). A `make run` step (re)starts `make run` in the background with the
exports so far. The service listens on free ports, chosen the way the README says to: in a `.env` file
(`ORDERS_API_PORT`, `ORDERS_EMBEDDED_PORT`) that `make run`, the worker and `orders` all read; only the
literal `127.0.0.1:8000` of the `curl` examples is rewritten. `service=no-worker` runs a dev server on
the embedded port, so `orders` finds it through `.env` as it finds the embedded one; the worker of
`service=worker` is given its TEMPORAL_ADDRESS, as a deployment's worker is.

What a step prints is compared with what the README shows after it: in `console` blocks the lines after
`$ command`, with times, ids and durations read as placeholders; in `sh` blocks the `# ...` comment
lines, where `...` stands for anything. A step that doesn't match yet is run again until it does (the
order's timers and Temporal's visibility take a moment), for up to `RETRY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from orders.embedded import temporal_binary
from tests.kit.paths import ROOT
from tests.kit.polling import eventually
from tests.kit.processes import Process, dev_server, free_port

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!-- example(?P<options>[^>]*?)-->\s*\n```(?P<lang>sh|console)\n(?P<body>.*?)```", re.S)
RETRY_SECONDS = 25.0
README_PORT = "127.0.0.1:8000"
VENV_BIN = ROOT / ".venv" / "bin"
# The steps that stay in force in the reader's terminal: variables, exports, the virtualenv's activation.
REMEMBERED = re.compile(r"(export )?[A-Z_]+=.*|(source|\.) \S*\.venv/bin/activate", re.S)


def without_venv(path: str) -> str:
    """PATH as a new terminal has it: `make test` puts `.venv/bin` first, a reader's shell doesn't."""
    ours = {str(VENV_BIN), str(Path(sys.executable).parent)}
    return ":".join(part for part in path.split(":") if part and part not in ours)


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    lang: str = "sh"
    where: str = ""


@dataclass
class Block:
    where: str
    lang: str
    service: str
    steps: list[Step]


def blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in MARKER.finditer(text):
            options = dict(part.split("=", 1) for part in match["options"].split() if "=" in part)
            line = text[: match.start()].count("\n") + 1
            where = f"{document.name}:{line}"
            parse = console_steps if match["lang"] == "console" else sh_steps
            found.append(
                Block(where, match["lang"], options.get("service", "up"), parse(match["body"], where))
            )
    return found


def sh_steps(body: str, where: str) -> list[Step]:
    steps: list[Step] = []
    lines = iter(body.splitlines())
    for line in lines:
        if not line.strip():
            continue
        if line.startswith("#"):
            assert steps, f"{where}: a comment before any command"
            steps[-1].expected.append(line[1:].strip())
            continue
        command = [line]
        heredoc = re.search(r"<<'?(\w+)'?", line)
        while command[-1].endswith("\\"):
            command.append(next(lines))
        if heredoc:
            while (more := next(lines)) != heredoc.group(1):
                command.append(more)
            command.append(more)
        steps.append(Step("\n".join(command), lang="sh", where=where))
    return steps


def console_steps(body: str, where: str) -> list[Step]:
    steps: list[Step] = []
    lines = iter(body.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = [line[2:]]
            while command[-1].endswith("\\"):
                command.append(next(lines))
            steps.append(Step("\n".join(command), lang="console", where=where))
        elif line.strip():
            assert steps, f"{where}: output before any command"
            steps[-1].expected.append(line)
    return steps


# Comparing

PLACEHOLDERS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}| UTC)?"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b\d+ (?:seconds?|minutes?|hours?) ago\b"), "<ago>"),
    (re.compile(r"\b\d+[dhms](?: ?\d+[dhms])*\b"), "<span>"),
    (re.compile(r"(?<=--after )[A-Za-z0-9_-]{16,}"), "<page token>"),
]


def normalized(lines: list[str]) -> list[str]:
    shown = []
    for line in lines:
        for pattern, placeholder in PLACEHOLDERS:
            line = pattern.sub(placeholder, line)
        if line.strip():
            shown.append(" ".join(line.split()))
    return shown


def matches(step: Step, output: str) -> bool:
    if step.lang == "console":
        return normalized(output.splitlines()) == normalized(step.expected)
    if not step.expected:
        return True
    return fragments_match("".join(step.expected), output.strip())


def fragments_match(expected: str, actual: str) -> bool:
    """`expected` with `...` standing for anything: its other pieces appear in `actual` in order, the
    first at the start and the last at the end unless `...` stands there."""
    pieces = expected.split("...")
    if len(pieces) == 1:
        return actual == expected
    if not actual.startswith(pieces[0]) or not actual.endswith(pieces[-1]):
        return False
    at = len(pieces[0])
    for piece in pieces[1:-1]:
        found = actual.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return at <= len(actual) - len(pieces[-1])


# The service


@dataclass
class Reader:
    """A reader's terminal (variables, exports, working directory) and the service they started."""

    home: Path
    api_port: int = field(default_factory=free_port)
    temporal_port: int = field(default_factory=lambda: free_port(pair=True))
    running: dict[str, Process] = field(default_factory=dict)
    mode: str = "down"

    def __post_init__(self) -> None:
        (self.home / ".venv").symlink_to(ROOT / ".venv")
        (self.home / "Makefile").write_text(f"include {ROOT / 'Makefile'}\n")
        (self.home / "prelude.sh").write_text("")
        # The reader's ports, where the README says to put them: every program reads this file.
        (self.home / ".env").write_text(
            f"ORDERS_API_PORT={self.api_port}\nORDERS_EMBEDDED_PORT={self.temporal_port}\n"
        )
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TEMPORAL_", "ORDERS_")) and k != "VIRTUAL_ENV"
        }
        self.env |= {
            "PATH": without_venv(os.environ.get("PATH", "/usr/bin:/bin")),
            "PYTHONUNBUFFERED": "1",
        }

    def shell(self, command: str, merged: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a step as the reader's terminal would; `merged`: stderr interleaved with stdout."""
        script = f"source prelude.sh\n{command.replace(README_PORT, f'127.0.0.1:{self.api_port}')}\n"
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merged else subprocess.PIPE,
            text=True,
            timeout=90,
        )

    def remember(self, command: str) -> None:
        """Variables, exports and the virtualenv stay set for later steps, as in the reader's terminal."""
        if REMEMBERED.fullmatch(command):
            with (self.home / "prelude.sh").open("a") as prelude:
                prelude.write(command.replace(README_PORT, f"127.0.0.1:{self.api_port}") + "\n")

    @property
    def temporal_address(self) -> str:
        return f"localhost:{self.temporal_port}"

    def exported(self) -> dict[str, str]:
        dump = self.shell("env -0")
        pairs = (item.split("=", 1) for item in dump.stdout.split("\0") if "=" in item)
        return {k: v for k, v in pairs if k.startswith("ORDERS_")}

    def stop(self) -> None:
        """Ctrl-C to `make run` (its whole process group, as a terminal sends it); SIGTERM to the rest."""
        for name, process in reversed(list(self.running.items())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT if name == "make run" else signal.SIGTERM)
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.sigkill()
        self.running.clear()
        self.mode = "down"

    async def make_run(self) -> None:
        self.stop()
        make = Process.start(
            ["make", "--no-print-directory", "run"],
            self.home / "make-run.log",
            self.env | self.exported(),
            cwd=self.home,
        )
        self.running["make run"] = make
        await self.ready(api=True)
        self.mode = "up"

    async def ready(self, api: bool) -> None:
        async def probe() -> bool:
            for name, process in self.running.items():
                assert process.alive(), f"{name} stopped:\n{process.log.read_text()[-3000:]}"
            if "worker polling" not in "".join(
                p.log.read_text(errors="replace") for p in self.running.values()
            ):
                return False
            if not api:
                return True
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"http://127.0.0.1:{self.api_port}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(probe, bool, timeout=120, every=0.3)

    async def provide(self, service: str) -> None:
        if service == self.mode:
            return
        if service == "up":
            await self.make_run()
        elif service == "down":
            self.stop()
        elif service == "no-worker":
            self.stop()
            database = self.home / ".data" / "temporal.db"
            database.parent.mkdir(exist_ok=True)
            server = dev_server(database, self.temporal_port, self.home / "temporal.log")
            self.running["temporal"] = server
            health = [temporal_binary(), "operator", "cluster", "health", "--address", self.temporal_address]
            await eventually(lambda: asyncio.to_thread(subprocess.run, health, capture_output=True),
                             lambda done: done.returncode == 0, timeout=60, every=0.3)  # fmt: skip
        elif service == "worker":
            assert self.mode == "no-worker", "service=worker follows a service=no-worker block"
            env = self.env | self.exported() | {"TEMPORAL_ADDRESS": self.temporal_address}
            worker = Process.start([str(VENV_BIN / "python"), "-m", "worker"], self.home / "worker.log", env,
                                   cwd=self.home)  # fmt: skip
            self.running["worker"] = worker
            await self.ready(api=False)
        self.mode = service


async def test_the_readme_examples_run_verbatim_top_to_bottom(tmp_path: Path) -> None:
    found = blocks()
    assert len(found) >= 10, "the README lost its example markers"
    reader = Reader(tmp_path)
    fresh = reader.shell("command -v orders temporal")
    assert fresh.returncode != 0, f"a new terminal finds {fresh.stdout!r}: the steps would not be honest"
    record = os.environ.get("README_RECORD")
    transcript: list[str] = []
    try:
        for block in found:
            await reader.provide(block.service)
            for step in block.steps:
                if step.command.strip() == "make run":
                    await reader.make_run()
                    continue
                deadline = time.monotonic() + RETRY_SECONDS
                while True:
                    done = await asyncio.to_thread(reader.shell, step.command, step.lang == "console")
                    output = done.stdout
                    if done.returncode == 0 and matches(step, output):
                        break
                    if record or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.5)
                transcript.append(f"## {step.where}\n$ {step.command}\n{output}")
                if not record:
                    assert done.returncode == 0, (
                        f"{step.where}: `{step.command}` exited {done.returncode}\n{output}"
                    )
                    assert matches(step, output), (
                        f"{step.where}: `{step.command}` printed\n{output}\nbut the document shows\n"
                        + "\n".join(step.expected)
                    )
                reader.remember(step.command)
    finally:
        reader.stop()
        if record:
            Path(record).write_text("\n".join(transcript))


def test_the_comparison_reads_placeholders_and_ellipses() -> None:
    assert fragments_match(
        '{"date":"...","orderId":"2003"}', '{"date":"2026-11-26T10:00:00Z","orderId":"2003"}'
    )
    assert not fragments_match('{"orderId":"2003"...', '{"orderId":"2004","x":1}')
    assert fragments_match('..."status":"canceled"...', '{"a":1,"status":"canceled","b":2}')
    assert fragments_match("204", "204")
    assert not fragments_match("204", "202")
    step = Step("orders status 1", ["  Placed:  2026-11-26 04:58:40 UTC (open, 18s left)"], lang="console")
    assert matches(step, "  Placed: 2027-01-02 10:00:00 UTC (open, 3s left)\n")
    assert not matches(step, "  Placed: 2027-01-02 10:00:00 UTC (over)\n")
