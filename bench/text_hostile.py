"""How long hostile mail HTML takes to become text, and whether the server keeps answering meanwhile (issue 13).

    .venv/bin/python bench/text_hostile.py                 # this tree
    PYTHONPATH=/tmp/old .venv/bin/python bench/text_hostile.py --quick   # an older tree, e.g. `git archive`d

Part 1 times `html_to_text` (the synchronous core, without its time budget where it has one) on each hostile
body at several sizes, median of `--runs`, each measurement in a child process killed after `--limit` seconds.
Part 2 serves the HTTP app on loopback over the fake Missive holding a 1 MB hostile message, calls
`read_conversation` on it, and polls `/health` from another client meanwhile: it prints the call's time and the
slowest `/health` answer. The bodies are written down here, so the figures can be reproduced.
"""

from __future__ import annotations

import argparse
import inspect
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)

HOSTILE: dict[str, Callable[[int], str]] = {
    # The old tag regex scanned to the end of the body from every unclosed "<a".
    "unclosed <a": lambda n: "<p>x</p>" + "<a" * (n // 2),
    # html2text indents every line by the depth of the list it sits in.
    "nested <ul><li>": lambda n: "<ul><li>" * (n // 8),
    # The standard parser rescans an unclosed comment on every feed; here, on every construct after it.
    "unclosed <!--": lambda n: "<p>x</p>" + "<!--" * (n // 4),
    # A stray end tag made the old filter search the whole open-element stack.
    "stray end tags, deep stack": lambda n: "<div>" * (n // 10) + "</p>" * (n // 8),
    "nested <blockquote>": lambda n: "<blockquote>x" * (n // 13),
    "lists then unclosed <a": lambda n: "<p>hi</p>" + "<ul><li>" * (n // 16) + "<a" * (n // 4),
    # Not hostile: an ordinary styled newsletter paragraph, repeated.
    "ordinary HTML": lambda n: (
        ('<p class="x" style="color:#333">Hello <b>world</b>, see <a href="https://x.example">this</a>.</p>\n')
        * (n // 98)
    ),
}
MEGABYTE = ("<p>Please see below.</p>" + "<ul><li>" * 50_000 + "<div>" * 60_000 + "<a" * 150_000)[:1_000_000]


def _convert_once(name: str, size: int) -> float:
    from missive_mcp.text import html_to_text

    body = HOSTILE[name](size)
    unbudgeted = {"seconds": None} if "seconds" in inspect.signature(html_to_text).parameters else {}
    start = time.perf_counter()
    html_to_text(body, **unbudgeted)
    return time.perf_counter() - start


def conversions(sizes: list[int], runs: int, limit: float) -> None:
    print(f"html_to_text, median of {runs} (seconds; '>{limit:g}' = killed)")
    print(f"{'body':30}" + "".join(f"{size // 1000:>10} KB" for size in sizes))
    for name in HOSTILE:
        cells = []
        for size in sizes:
            times: list[float] = []
            for _ in range(runs):
                code = f"import sys; sys.path[:0] = {[_HERE, *sys.path]!r}; from text_hostile import _convert_once; "
                code += f"print(_convert_once({name!r}, {size}))"
                try:
                    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=limit)
                    times.append(float(out.stdout.strip().splitlines()[-1]))
                except subprocess.TimeoutExpired:
                    times = []
                    break
            cells.append(f"{statistics.median(times):>13.3f}" if times else f"{'>' + format(limit, 'g'):>13}")
            if not times:
                cells += [f"{'(skipped)':>13}"] * (len(sizes) - len(cells))
                break
        print(f"{name:30}" + "".join(cells), flush=True)


def served_read(runs: int, limit: float) -> None:
    import httpx2
    import uvicorn
    from pydantic import SecretStr

    from missive_mcp.http import create_http_app
    from missive_mcp.sandbox import DEMO_ORG_ID, DEMO_TOKEN, FakeMissive
    from missive_mcp.sandbox.workspace import Message, new_id
    from missive_mcp.server import create_server
    from missive_mcp.settings import Settings

    fake = FakeMissive(report_delay=0.0)
    ws = fake.workspace
    conversation = ws.add_conversation(created_at=ws.now() - 60, organization_id=DEMO_ORG_ID)
    ws.add_message(
        conversation,
        Message(
            id=new_id(),
            conversation_id=conversation.id,
            body=MEGABYTE,
            from_field={"name": "Pat", "address": "pat@customer.example"},
            delivered_at=ws.now() - 60,
        ),
    )
    key = "bench-key-" + "z" * 24
    settings = Settings.model_validate(
        {"api_token": SecretStr(DEMO_TOKEN), "base_url": fake.base_url, "mcp_auth_token": SecretStr(key)}
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server_app = create_server(settings, transport=fake.transport())
    if "port" in inspect.signature(create_http_app).parameters:  # the trees before the HTTP settings moved
        app = create_http_app(server_app, settings, host="127.0.0.1", port=port)  # pyright: ignore[reportCallIssue]
    else:
        app = create_http_app(server_app, settings.model_copy(update={"port": port}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
        "Authorization": f"Bearer {key}",
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "read_conversation", "arguments": {"conversation_id": conversation.id}},
    }
    reads: list[float] = []
    slowest, polls, status = 0.0, 0, ""
    for _ in range(runs):
        result: dict[str, float | str] = {}

        def read(result: dict[str, float | str] = result) -> None:
            start = time.perf_counter()
            try:
                with httpx2.Client(timeout=limit) as http:
                    code = http.post(f"{url}/mcp", json=call, headers=headers).status_code
                result["read"], result["status"] = time.perf_counter() - start, f"HTTP {code}"
            except httpx2.TimeoutException:
                result["read"], result["status"] = float("inf"), f"no answer within {limit:g} s"

        reader = threading.Thread(target=read)
        reader.start()
        with httpx2.Client(timeout=limit) as http:
            while reader.is_alive():
                start = time.perf_counter()
                try:
                    http.get(f"{url}/health")
                except httpx2.TimeoutException:
                    slowest = float("inf")
                    break
                slowest, polls = max(slowest, time.perf_counter() - start), polls + 1
        reader.join()
        reads.append(float(result["read"]))
        status = str(result["status"])
        if reads[-1] == float("inf"):
            break
    server.should_exit = True
    print(
        f"\nread_conversation on a 1 MB hostile body over HTTP, median of {len(reads)}: "
        f"{statistics.median(reads):.2f} s ({status}); slowest of {polls} /health answers meanwhile: {slowest:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a measurement is abandoned")
    parser.add_argument("--quick", action="store_true", help="sizes 100 and 300 KB only")
    args = parser.parse_args()
    sizes = [100_000, 300_000] if args.quick else [100_000, 300_000, 1_000_000]
    conversions(sizes, args.runs, args.limit)
    served_read(args.runs, args.limit)


if __name__ == "__main__":
    main()
