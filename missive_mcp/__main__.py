"""Command line: parse flags, load settings, run a transport."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import SecretStr

from . import __version__
from .redact import RedactingFilter, limit, remember
from .settings import TOOLSETS, Settings, SettingsError, variable_of

logger = logging.getLogger("missive_mcp")


def configure_logging(settings: Settings) -> None:
    """Log to stderr only: stdout carries the MCP protocol on stdio."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = [
        s.get_secret_value()
        for s in (settings.api_token, settings.mcp_auth_token, settings.webhook_secret, *settings.secret_key)
        if s
    ]
    secrets += [
        s.get_secret_value()
        for s in (settings.database_url, settings.redis_url)
        if s and "@" in str(s.get_secret_value())
    ]
    for secret in secrets:
        remember(secret)
    limit(settings.scrub_max_tokens)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # The HTTP stack logs every request at INFO, URL included; keep that for DEBUG.
    for noisy in ("httpx2", "httpcore2", "httpcore", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def parser() -> argparse.ArgumentParser:
    """Every flag sets the settings field of its own name (dashes for underscores); the environment fills the rest."""
    p = argparse.ArgumentParser(
        prog="missive-mcp",
        description="MCP server for the Missive team inbox. Every flag mirrors an environment variable.",
        argument_default=None,
    )
    p.add_argument(
        "command",
        nargs="?",
        choices=("serve", "check", "keys"),
        default="serve",
        help="serve (default): run the MCP server; check: diagnose the token, the API and the settings; "
        "keys: server keys and sign-ins of the team server (keys create LABEL | list | revoke ID | reseal)",
    )
    p.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--version", action="version", version=f"missive-mcp {__version__}")
    switches = {"demo", "read_only", "allow_send", "dynamic_toolsets", "confirm_required"}
    for name, field in Settings.model_fields.items():
        if name in SECRET_FIELDS:
            continue  # a secret on the command line would show in `ps`: environment only
        flag = "--" + name.replace("_", "-")
        help_text = f"{(field.description or '').rstrip('.')} ({variable_of(name)})"
        if name in switches:
            p.add_argument(flag, dest=name, action="store_true", help=help_text)
        else:
            p.add_argument(flag, dest=name, metavar=name.upper(), help=help_text)
    return p


SECRET_FIELDS = frozenset({"api_token", "mcp_auth_token", "secret_key", "database_url", "redis_url", "webhook_secret"})


def load_settings(args: argparse.Namespace) -> Settings:
    """The settings: flags given on the command line, then the environment, validated once."""
    flags = {name: value for name, value in vars(args).items() if name in Settings.model_fields and value}
    settings = Settings.from_env(os.environ, **flags)
    if settings.demo and "toolsets" not in flags and not os.environ.get("MISSIVE_TOOLSETS", "").strip():
        # The demo shows everything the server can do, unless the toolsets were chosen.
        settings = settings.model_copy(update={"toolsets": frozenset(TOOLSETS)})
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    # Start-up makes about half a million objects that live as long as the server (the SDK's types, our models,
    # the tool schemas), and the cyclic garbage collector would walk them again and again while they are made:
    # it is paused until the server is built, and what was built is then frozen so later collections skip it.
    # A tenth of the start-up (spawn to the first tools/list), at the price of 1 to 2 MiB that start-up left
    # behind in cycles and that is never freed.
    gc.disable()
    try:
        return run(argv)
    finally:
        gc.enable()


def built() -> None:
    """The server is built: what start-up made stays, so collections from now on leave it alone."""
    gc.freeze()
    gc.enable()


def run(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args)
    except SettingsError as exc:
        print(f"missive-mcp: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    transport = None
    if settings.demo:
        from .sandbox import DEMO_TOKEN, FakeMissive

        fake = FakeMissive(report_delay=2.0)
        transport = fake.transport()
        settings = settings.model_copy(update={"api_token": SecretStr(DEMO_TOKEN), "base_url": fake.base_url})
    if args.command == "keys":
        import anyio

        from .auth.keys import run_keys

        built()
        return anyio.run(lambda: run_keys(settings, args.arguments, transport=transport))
    if args.arguments:
        print(f"missive-mcp: unexpected argument(s) {' '.join(args.arguments)}", file=sys.stderr)
        return 2
    if args.command == "check":
        import anyio

        from .doctor import run_check

        built()
        return anyio.run(lambda: run_check(settings, transport=transport))

    if settings.auth == "oauth" and settings.transport != "http":
        print(
            "missive-mcp: MISSIVE_MCP_AUTH=oauth signs people in over HTTP: set MISSIVE_MCP_TRANSPORT=http.",
            file=sys.stderr,
        )
        return 2
    from .server import create_server

    server = create_server(settings, transport=transport)
    built()
    if settings.transport == "stdio":
        announce(settings, where="over stdio")
        import anyio

        from .stdio import serve_stdio

        anyio.run(serve_stdio, server)
        return 0
    from .http import create_http_app, serve_http

    try:
        app = create_http_app(server, settings)
    except ValueError as exc:
        print(f"missive-mcp: {exc}", file=sys.stderr)
        return 2
    announce(settings, where=f"at http://{settings.host}:{settings.port}/mcp")
    serve_http(app, settings)
    return 0


def announce(settings: Settings, *, where: str) -> None:
    """Tell a person at a terminal what is being served and how to connect; a client sees one log line."""
    source = "the built-in demo workspace" if settings.demo else settings.base_url
    logger.info("missive-mcp %s serving %s %s", __version__, source, where)
    if not sys.stdin.isatty():
        return
    command = "missive-mcp --demo" if settings.demo else "missive-mcp"
    if where == "over stdio":
        how = (
            "It talks MCP on stdin/stdout, so typing here does nothing. Connect a client instead, e.g.:\n"
            f"  claude mcp add missive -- {command}\n"
            f"  npx @modelcontextprotocol/inspector {command}"
        )
    else:
        url = where.removeprefix("at ")
        how = f"Point an MCP client at {url} with the header Authorization: Bearer <MISSIVE_MCP_AUTH_TOKEN>."
        if settings.auth == "oauth":
            how = f"Add {settings.public_url}/mcp to an MCP client; each person signs in with their own Missive token."
    print(f"missive-mcp {__version__}: serving {source} {where}.\n{how}\nStop with Ctrl+C.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
