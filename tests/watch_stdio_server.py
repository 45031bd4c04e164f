"""The stdio server as `missive-mcp` runs it, with the watcher's test-only interval (the user's floor is 5 s): for
tests/test_watch.py, which spawns it. Settings come from the environment as usual."""

from __future__ import annotations

import sys

import anyio

from missive_mcp.server import create_server
from missive_mcp.settings import Settings
from missive_mcp.stdio import serve_stdio

if __name__ == "__main__":
    server = create_server(Settings.from_env(), watch_interval_for_tests=float(sys.argv[1]))
    anyio.run(serve_stdio, server)
