"""Real PostgreSQL and Redis for the team-server tests, and a way to serve an ASGI app on loopback.

With MISSIVE_MCP_TEST_DATABASE_URL / MISSIVE_MCP_TEST_REDIS_URL set, the tests use those servers. Without them,
a throwaway PostgreSQL (initdb + pg_ctl in a temporary folder) and Redis (no persistence) start on free loopback
ports, when their programs are installed (`apt-get install postgresql redis-server`). Otherwise a test that
needs one fails, saying how to get it: no silent skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

HOW = (
    "install the packages (`apt-get install -y postgresql redis-server`), or run `bash .ci/run`, or point "
    "MISSIVE_MCP_TEST_DATABASE_URL=postgresql://... and MISSIVE_MCP_TEST_REDIS_URL=redis://... at running servers"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server's URL (its `postgres` database)."""
    given = os.environ.get("MISSIVE_MCP_TEST_DATABASE_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail(f"This test needs PostgreSQL: {HOW}.", pytrace=False)
    # Not under pytest's folder: as root, PostgreSQL runs as the postgres user, who cannot enter root's 0700 folders.
    folder = Path(tempfile.mkdtemp(prefix="missive-mcp-pg-"))
    data = folder / "data"
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")

    def run(*command: str) -> None:
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, check=False)
        if done.returncode:
            pytest.fail(f"{command[0]} failed ({HOW}):\n{done.stdout}{done.stderr}", pytrace=False)

    run(initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    options = f"-p {port} -h 127.0.0.1 -k {folder} -F -c fsync=off -c full_page_writes=off"
    run(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = postgres_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("MISSIVE_MCP_TEST_REDIS_URL")
    if given:
        yield given
        return
    program = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not program:
        pytest.fail(f"This test needs Redis: {HOW}.", pytrace=False)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, 10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """The Redis server, emptied before the test (one database per run, so limits do not leak between tests)."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    yield redis_server


@contextmanager
def serve(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on loopback from a thread; yields its origin (http://127.0.0.1:PORT)."""
    port = port or free_port()
    with run(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")) as origin:
        yield origin


@contextmanager
def run(config: uvicorn.Config) -> Iterator[str]:
    """Run a uvicorn server from a thread until the block ends; yields its origin."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError("the app did not start")
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
