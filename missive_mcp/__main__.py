"""Command line: parse flags, load settings, run a transport."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from pydantic import SecretStr

from . import __version__
from .settings import TOOLSETS, Settings, SettingsError, parse_bool

logger = logging.getLogger("missive_mcp")


class RedactingFilter(logging.Filter):
    """Keeps secrets out of every log line, whatever logged it."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> None:
    """Log to stderr only: stdout carries the MCP protocol on stdio."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = [s.get_secret_value() for s in (settings.api_token, settings.mcp_auth_token) if s]
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # The HTTP stack logs every request at INFO, URL included; keep that for DEBUG.
    for noisy in ("httpx2", "httpcore", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="missive-mcp",
        description="MCP server for the Missive team inbox. Every flag mirrors an environment variable.",
    )
    p.add_argument(
        "command",
        nargs="?",
        choices=("serve", "check"),
        default="serve",
        help="serve (default): run the MCP server; check: diagnose the token, the API and the settings",
    )
    p.add_argument("--version", action="version", version=f"missive-mcp {__version__}")
    p.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="serve a built-in demo workspace, no token, no network (MISSIVE_DEMO)",
    )
    p.add_argument("--transport", choices=("stdio", "http"), help="stdio (default) or http (MISSIVE_MCP_TRANSPORT)")
    p.add_argument("--host", help="HTTP host to bind (MISSIVE_MCP_HOST, default 127.0.0.1)")
    p.add_argument("--port", help="HTTP port (MISSIVE_MCP_PORT, default 8000)")
    p.add_argument("--allowed-hosts", help="HTTP: Host names clients use, comma list (MISSIVE_MCP_ALLOWED_HOSTS)")
    p.add_argument("--base-url", help="Missive API root (MISSIVE_API_BASE_URL)")
    p.add_argument(
        "--read-only", action="store_true", default=None, help="only tools that change nothing (MISSIVE_READ_ONLY)"
    )
    p.add_argument("--allow-send", action="store_true", default=None, help="allow sending drafts (MISSIVE_ALLOW_SEND)")
    p.add_argument("--toolsets", help=f"comma list of {', '.join(TOOLSETS)} (MISSIVE_TOOLSETS)")
    p.add_argument("--send-allowed-domains", help="send only to these domains (MISSIVE_SEND_ALLOWED_DOMAINS)")
    p.add_argument("--timeout", help="seconds to wait for Missive (MISSIVE_TIMEOUT, default 30)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (MISSIVE_LOG_LEVEL, default INFO)")
    return p


def load_settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    flags = {
        "MISSIVE_API_BASE_URL": args.base_url,
        "MISSIVE_READ_ONLY": args.read_only and "true",
        "MISSIVE_ALLOW_SEND": args.allow_send and "true",
        "MISSIVE_TOOLSETS": args.toolsets,
        "MISSIVE_SEND_ALLOWED_DOMAINS": args.send_allowed_domains,
        "MISSIVE_TIMEOUT": args.timeout,
        "MISSIVE_LOG_LEVEL": args.log_level,
    }
    env.update({name: value for name, value in flags.items() if value})
    return Settings.from_env(env)


def serving_flags(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    """The flags that choose how to serve, filled from their environment variables where not given."""
    if args.demo is None:
        args.demo = parse_bool("MISSIVE_DEMO", env.get("MISSIVE_DEMO", ""))
    transport = args.transport or env.get("MISSIVE_MCP_TRANSPORT", "").strip().lower() or "stdio"
    if transport not in ("stdio", "http"):
        raise SettingsError(f"MISSIVE_MCP_TRANSPORT must be stdio or http, not {transport!r}.")
    args.transport = transport
    args.host = args.host or env.get("MISSIVE_MCP_HOST", "").strip() or "127.0.0.1"
    port = str(args.port or env.get("MISSIVE_MCP_PORT", "").strip() or "8000")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"The port (--port or MISSIVE_MCP_PORT) must be a number from 1 to 65535, not {port!r}.")
    args.port = int(port)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        serving_flags(args, os.environ)
        settings = load_settings(args)
    except SettingsError as exc:
        print(f"missive-mcp: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    transport = None
    if args.demo:
        from .sandbox import DEMO_TOKEN, FakeMissive

        fake = FakeMissive(report_delay=2.0)
        transport = fake.transport()
        settings = settings.model_copy(update={"api_token": SecretStr(DEMO_TOKEN), "base_url": fake.base_url})
    if args.command == "check":
        import anyio

        from .doctor import run_check

        return anyio.run(lambda: run_check(settings, transport=transport))

    from .server import create_server

    server = create_server(settings, transport=transport)
    if args.transport == "stdio":
        announce(settings, demo=args.demo, where="over stdio")
        server.run("stdio")
        return 0
    import uvicorn

    from .http import create_http_app

    hosts = args.allowed_hosts or os.environ.get("MISSIVE_MCP_ALLOWED_HOSTS", "")
    try:
        app = create_http_app(
            server,
            settings,
            host=args.host,
            port=args.port,
            allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        )
    except ValueError as exc:
        print(f"missive-mcp: {exc}", file=sys.stderr)
        return 2
    announce(settings, demo=args.demo, where=f"at http://{args.host}:{args.port}/mcp")
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower(), access_log=False)
    return 0


def announce(settings: Settings, *, demo: bool, where: str) -> None:
    """Tell a person at a terminal what is being served and how to connect; a client sees one log line."""
    source = "the built-in demo workspace" if demo else settings.base_url
    logger.info("missive-mcp %s serving %s %s", __version__, source, where)
    if not sys.stdin.isatty():
        return
    command = "missive-mcp --demo" if demo else "missive-mcp"
    if where == "over stdio":
        how = (
            "It talks MCP on stdin/stdout, so typing here does nothing. Connect a client instead, e.g.:\n"
            f"  claude mcp add missive -- {command}\n"
            f"  npx @modelcontextprotocol/inspector {command}"
        )
    else:
        url = where.removeprefix("at ")
        how = f"Point an MCP client at {url} with the header Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>."
    print(f"missive-mcp {__version__}: serving {source} {where}.\n{how}\nStop with Ctrl+C.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
