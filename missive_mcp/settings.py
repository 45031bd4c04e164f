"""Every knob of the server, read from the environment once and validated.

Each setting has one environment variable; the command line mirrors them as flags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

DEFAULT_BASE_URL = "https://public.missiveapp.com/v1"
TOKEN_HELP = (
    "Create a personal API token in Missive (Settings > API > Create a new token; it needs the Productive plan) "
    "and set it in the MISSIVE_API_TOKEN environment variable of the MCP server."
)

TOOLSETS = ("conversations", "drafts", "contacts", "analytics", "messages", "directory")
"""Groups of tools an operator can enable with MISSIVE_TOOLSETS (all by default)."""

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable."""


class Settings(BaseModel):
    """The server's configuration."""

    model_config = ConfigDict(frozen=True)

    api_token: SecretStr | None = None
    """Missive personal access token (MISSIVE_API_TOKEN)."""
    base_url: str = DEFAULT_BASE_URL
    """Missive REST API root (MISSIVE_API_BASE_URL)."""
    allow_send: bool = False
    """Whether drafts may be sent or scheduled (MISSIVE_ALLOW_SEND)."""
    read_only: bool = False
    """Only tools that change nothing in the mailbox (MISSIVE_READ_ONLY)."""
    toolsets: frozenset[str] = frozenset(TOOLSETS)
    """Tool groups to serve (MISSIVE_TOOLSETS, comma-separated)."""
    send_allowed_domains: frozenset[str] = frozenset()
    """If set, sending is allowed only to these recipient domains (MISSIVE_SEND_ALLOWED_DOMAINS)."""
    timeout: float = 30.0
    """Seconds to wait for one answer from Missive (MISSIVE_TIMEOUT)."""
    log_level: LogLevel = "INFO"
    """Level of the log written to stderr (MISSIVE_LOG_LEVEL)."""
    mcp_auth_token: SecretStr | None = None
    """Bearer key HTTP clients must present (MISSIVE_MCP_AUTH_TOKEN)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from `env` (default: the process environment); `overrides` win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if token := env.get("MISSIVE_API_TOKEN", "").strip():
            values["api_token"] = SecretStr(token)
        if base := env.get("MISSIVE_API_BASE_URL", "").strip():
            values["base_url"] = base
        for name, key in (("MISSIVE_ALLOW_SEND", "allow_send"), ("MISSIVE_READ_ONLY", "read_only")):
            if name in env:
                values[key] = parse_bool(name, env[name])
        if "MISSIVE_TOOLSETS" in env:
            values["toolsets"] = parse_toolsets(env["MISSIVE_TOOLSETS"])
        if domains := env.get("MISSIVE_SEND_ALLOWED_DOMAINS", "").strip():
            values["send_allowed_domains"] = parse_domains(domains)
        if timeout := env.get("MISSIVE_TIMEOUT", "").strip():
            values["timeout"] = parse_timeout(timeout)
        if level := env.get("MISSIVE_LOG_LEVEL", "").strip():
            values["log_level"] = parse_log_level(level)
        if key := env.get("MISSIVE_MCP_AUTH_TOKEN", "").strip():
            values["mcp_auth_token"] = SecretStr(key)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}.")


def parse_toolsets(raw: str) -> frozenset[str]:
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if not names or "all" in names:
        return frozenset(TOOLSETS)
    unknown = sorted(names - set(TOOLSETS))
    if unknown:
        raise SettingsError(f"MISSIVE_TOOLSETS has unknown toolset(s) {', '.join(unknown)}; use {', '.join(TOOLSETS)}.")
    return frozenset(names)


def parse_domains(raw: str) -> frozenset[str]:
    domains = {part.strip().lower().lstrip("@") for part in raw.split(",") if part.strip()}
    bad = sorted(d for d in domains if "." not in d or " " in d or "@" in d)
    if bad:
        raise SettingsError(f"MISSIVE_SEND_ALLOWED_DOMAINS has invalid domain(s) {', '.join(bad)}; use e.g. acme.com.")
    return frozenset(domains)


def parse_timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 600:
        raise SettingsError(f"MISSIVE_TIMEOUT must be a number of seconds from 1 to 600, not {raw!r}.")
    return value


def parse_log_level(raw: str) -> LogLevel:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"MISSIVE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {raw!r}.")
    return level  # type: ignore[return-value]
