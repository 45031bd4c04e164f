"""The bench's harness: child processes spoken to in JSON-RPC over stdio, the fake on loopback, medians with their
range, and the results table written into docs/benchmarks.md. The figures live in their own modules
(`bench/fig_*.py`); `bench/run.py` runs them.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from missive_mcp.sandbox import DEMO_TOKEN, FakeMissive

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
PROTOCOL = "2025-11-25"  # the handshake most clients speak today; both servers answer it


# Statistics and the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: list[float] | list[int]) -> Stat:
        if not values:
            raise ValueError("no values measured")
        return cls(tuple(float(v) for v in values))

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def show(self, fmt: Callable[[float], str]) -> str:
        if self.min == self.max:
            return fmt(self.median)
        return f"{fmt(self.median)} ({fmt(self.min)} to {fmt(self.max)})"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def sec(seconds: float) -> str:
    return f"{seconds:.2f} s"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def count(value: float) -> str:
    return f"{value:,.0f}"


def nbytes(value: float) -> str:
    return f"{value:,.0f} B"


@dataclass
class Row:
    figure: str
    fmt: Callable[[float], str]
    ours: Stat | None
    base: Stat | None = None
    target: str = "—"
    met: bool | None = None
    verdict: str = ""
    """Shown after yes/NO, e.g. the factor that decided it."""
    ratio: float | None = None
    """ours/baseline; by default the ratio of the medians."""
    comparable: bool = True
    """False where the two figures measure different outcomes, so their ratio means nothing."""

    def cells(self) -> list[str]:
        ratio = self.ratio
        if ratio is None and self.comparable and self.ours and self.base and self.base.median:
            ratio = self.ours.median / self.base.median
        met = "—" if self.met is None else ("yes" if self.met else "**NO**")
        return [
            self.figure,
            self.ours.show(self.fmt) if self.ours else "—",
            self.base.show(self.fmt) if self.base else "—",
            f"{ratio:.2f}" if ratio is not None else "—",
            self.target,
            f"{met} {self.verdict}".strip(),
        ]


HEADER = ["Figure", "ours: median (min to max)", "baseline: median (min to max)", "ours/baseline", "target", "met?"]


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]
    notes: list[str] = field(default_factory=list)  # pyright: ignore[reportUnknownVariableType]

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(" | ".join(row.cells()), flush=True)


# Speaking MCP over a child's stdio ---------------------------------------------------------------------------


@dataclass
class Reply:
    message: dict[str, Any]
    size: int
    """Bytes of the JSON-RPC message as it came down the pipe (without the newline that frames it)."""
    sent: float
    received: float
    """perf_counter() when the request was written and when its whole answer line had arrived."""

    @property
    def seconds(self) -> float:
        return self.received - self.sent

    @property
    def result(self) -> dict[str, Any]:
        if "result" not in self.message:
            raise RuntimeError(f"JSON-RPC error: {self.message.get('error')}")
        return self.message["result"]

    @property
    def is_error(self) -> bool:
        return "result" not in self.message or bool(self.message["result"].get("isError"))

    @property
    def data(self) -> Any:
        """A tool result's structured content, or its text parsed as JSON."""
        result = self.result
        if result.get("structuredContent") is not None:
            return result["structuredContent"]
        return json.loads(result["content"][0]["text"])


class Peer:
    """A JSON-RPC client over a child process's stdin/stdout, many requests in flight at once."""

    def __init__(self, process: Process) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._stdin = process.stdin
        self._stdout = BufferedByteReceiveStream(process.stdout)
        self._lock = anyio.Lock()
        self._next = 0
        self._waiting: dict[int, anyio.Event] = {}
        self._replies: dict[int, Reply | None] = {}
        self._sent: dict[int, float] = {}

    async def read_forever(self) -> None:
        try:
            while True:
                line = await self._stdout.receive_until(b"\n", 1 << 28)
                received = time.perf_counter()
                message = json.loads(line)
                if "method" in message:
                    if "id" in message:  # a request from the server: we offer no client features
                        error = {"code": -32601, "message": "not supported by the benchmark client"}
                        await self._write({"jsonrpc": "2.0", "id": message["id"], "error": error})
                    continue
                rid = message.get("id")
                if rid in self._waiting:
                    self._replies[rid] = Reply(message, len(line), self._sent.pop(rid), received)
                    self._waiting.pop(rid).set()
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            for rid, event in list(self._waiting.items()):
                self._replies[rid] = None
                event.set()

    async def _write(self, message: dict[str, Any]) -> None:
        async with self._lock:
            await self._stdin.send(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Reply:
        self._next += 1
        rid = self._next
        event = self._waiting[rid] = anyio.Event()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self._sent[rid] = time.perf_counter()
        await self._write(message)
        await event.wait()
        reply = self._replies.pop(rid)
        if reply is None:
            raise RuntimeError(f"the server exited before answering {method}")
        return reply

    async def handshake(self) -> None:
        info = {"name": "missive-bench", "version": "1"}
        await self.request("initialize", {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": info})
        await self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self, name: str, **arguments: Any) -> Reply:
        return await self.request("tools/call", {"name": name, "arguments": arguments})

    async def ok(self, name: str, **arguments: Any) -> Reply:
        """A tool call that must succeed."""
        reply = await self.call(name, **arguments)
        if reply.is_error:
            raise RuntimeError(f"{name}({arguments}) failed: {json.dumps(reply.message)[:500]}")
        return reply

    def peak_rss_kib(self) -> int:
        """The child's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc (Linux only)")

    async def close(self) -> None:
        await self._stdin.aclose()
        with anyio.move_on_after(5):
            await self.process.wait()
            return
        self.process.kill()
        await self.process.wait()


@asynccontextmanager
async def spawn(command: list[str], env: dict[str, str]) -> AsyncIterator[Peer]:
    process = await anyio.open_process(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    peer = Peer(process)
    async with anyio.create_task_group() as group:
        group.start_soon(peer.read_forever)
        try:
            yield peer
        finally:
            with anyio.CancelScope(shield=True):
                await peer.close()
            group.cancel_scope.cancel()


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a spawned server. Bytecode may be written whatever the shell says
    (PYTHONDONTWRITEBYTECODE): an installed package has its bytecode (pip compiles it), and without it every start
    would compile each changed module again, which is not what a user's start costs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MISSIVE_", "FASTMCP_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    return env | extra


@dataclass(frozen=True)
class Server:
    name: str
    command: list[str]
    env: dict[str, str]


def ours(url: str, name: str = "ours", **settings: str) -> Server:
    """Our server on the fake at `url`, with its default settings unless `settings` (environment variables) say."""
    env = child_env(MISSIVE_API_TOKEN=DEMO_TOKEN, MISSIVE_API_BASE_URL=url, **settings)
    return Server(name, [sys.executable, "-m", "missive_mcp"], env)


def baseline(url: str) -> Server:
    env = child_env(MISSIVE_API_TOKEN=DEMO_TOKEN)
    return Server("baseline", [sys.executable, str(HERE / "baseline_server.py"), url], env)


def floor() -> Server:
    return Server("floor", [sys.executable, str(HERE / "floor_server.py")], child_env())


@asynccontextmanager
async def started(server: Server) -> AsyncIterator[Peer]:
    async with spawn(server.command, server.env) as peer:
        await peer.handshake()
        yield peer


# The fake ----------------------------------------------------------------------------------------------------


class TimedApp:
    """The fake's ASGI app, timing how long it takes to answer each request it is handed."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.seconds.append(time.perf_counter() - began)


@contextmanager
def loopback(fake: FakeMissive) -> Iterator[tuple[str, TimedApp]]:
    """Serve `fake` on 127.0.0.1 with its handling timed; yields the base URL (ending in /v1) and the timer."""
    timed = TimedApp(fake.app)
    fake.app = cast(Any, timed)
    with fake.serve() as url:
        yield url, timed


def bare_client(url: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=url + "/", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30.0)


def compact(value: Any) -> int:
    """Bytes of `value` as compact JSON (UTF-8): how a tool list is sized when it is put in front of a model."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# The run -----------------------------------------------------------------------------------------------------


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("missive-mcp", "mcp", "fastmcp", "httpx2", "pydantic"))
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {versions}"
    )


def render(report: Report, settings: str, took: float) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = "\n".join(f"- {note}" for note in report.notes)
    return (
        f"Run {stamp} in {took:.0f} s with `{' '.join(['bench/run.py', *sys.argv[1:]])}` ({settings}).\n\n"
        f"Machine: {machine()}.\n\n{table(report.rows)}\n\n{notes}\n"
    )


def write_doc(text: str) -> None:
    """Replace the results section of docs/benchmarks.md (between its markers) with `text`."""
    current = DOC.read_text()
    head, rest = current.split(START, 1)
    DOC.write_text(f"{head}{START}\n{text}{END}{rest.split(END, 1)[1]}")
