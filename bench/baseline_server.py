"""The baseline: `FastMCP.from_openapi` over the project's copy of the API description, served over stdio.

Run by bench/run.py as a subprocess: `python bench/baseline_server.py BASE_URL` (BASE_URL ends in /v1, because
the description's paths do not). The token comes from MISSIVE_API_TOKEN. Needs the `bench` extra (fastmcp).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx2
from fastmcp import FastMCP

SPEC = Path(__file__).resolve().parent.parent / "missive_mcp" / "sandbox" / "missive-openapi.json"


def main() -> None:
    base_url = sys.argv[1] if len(sys.argv) > 1 else "https://public.missiveapp.com/v1"
    token = os.environ.get("MISSIVE_API_TOKEN", "")
    client = httpx2.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
    server = FastMCP.from_openapi(openapi_spec=json.loads(SPEC.read_text()), client=client, name="missive-baseline")
    server.run("stdio", show_banner=False)


if __name__ == "__main__":
    main()
