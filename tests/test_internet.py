"""The team server as a stranger on the internet meets it: nothing is read before the caller is known, registration
is bounded, loopback clients may take any port, and mail never becomes markup in what the team sends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest

from .services import free_port
from .test_auth import SECRET_KEY

pytestmark = pytest.mark.anyio

KEY_MODE = {"MISSIVE_MCP_AUTH": "key", "MISSIVE_MCP_AUTH_TOKEN": "k" * 40}


@contextmanager
def team_process(tmp_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real command line serving the demo workspace in oauth mode, in its own process (its memory is ours to
    read)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE")} | {
        "MISSIVE_MCP_AUTH": "oauth",
        "MISSIVE_MCP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MISSIVE_MCP_SECRET_KEY": SECRET_KEY,
        "MISSIVE_MCP_DATABASE_URL": str(tmp_path / "team.sqlite3"),
        **env,
    }
    command = [sys.executable, "-m", "missive_mcp", "--demo", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(timeout=1) as http:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if http.get(f"{origin}/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.05)
        yield origin, server
    finally:
        server.terminate()
        server.communicate(timeout=10)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


# --- 1. Identity first ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak memory from /proc")
@pytest.mark.parametrize("mode", [{}, KEY_MODE], ids=["oauth", "key"])
async def test_forty_unauthenticated_ten_megabyte_posts_cost_the_server_almost_no_memory(
    tmp_path: Path, mode: dict[str, str]
) -> None:
    head, tail = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "', b'"}}'
    chunk = b"x" * (256 * 1024)
    whole = head + chunk * 40 + tail  # 10 MiB of valid JSON-RPC: parsing it would cost several times that

    async def streamed() -> AsyncIterator[bytes]:
        yield head
        for _ in range(40):
            yield chunk
        yield tail

    with team_process(tmp_path, **mode) as (origin, server):
        async with httpx2.AsyncClient(timeout=60) as http:
            warm = await http.post(f"{origin}/mcp", content=head + tail, headers={"Content-Type": "application/json"})
            assert warm.status_code == 401
            before = peak_rss_mib(server.pid)
            statuses: list[int] = []

            async def stranger(chunked: bool) -> None:
                headers = {"Content-Type": "application/json"}
                answer = await http.post(f"{origin}/mcp", content=streamed() if chunked else whole, headers=headers)
                statuses.append(answer.status_code)

            with anyio.fail_after(120):
                async with anyio.create_task_group() as tg:
                    for number in range(40):
                        tg.start_soon(stranger, number % 2 == 0)  # half declare their length, half stream it
            after = peak_rss_mib(server.pid)
    assert statuses == [401] * 40
    assert after - before < 50, f"peak memory rose {after - before:.0f} MiB (from {before:.0f} MiB)"
