"""Every knob of the server: one validated `Settings` object, whether its values come from the environment, the
command line or a test.

Each field names its environment variable (its alias); each command-line flag is the field's name with dashes
(`--read-only` sets `read_only`). The same validators run on every path, so `Settings(timeout=-1)` is refused
just as `MISSIVE_TIMEOUT=-1` is; `Settings.from_env` turns a refusal into one sentence naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .docstrings import Described
from .toolsets import DEFAULT_TOOLSET_IDS, TOOLSET_IDS

DEFAULT_BASE_URL = "https://public.missiveapp.com/v1"
WATCH_MIN_INTERVAL = 5.0
"""The shortest MISSIVE_WATCH_INTERVAL a user may set (0 turns watching off)."""
WATCH_SHARE = 10
"""The watcher spends at most 1/WATCH_SHARE of Missive's budgets (`facts.WINDOWS`), whatever the interval."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Transport = Literal["stdio", "http"]
Confirmable = Literal["send", "delete"]
AuthMode = Literal["key", "oauth"]

DEFAULT_DATABASE = "missive-mcp.sqlite3"
SECRET_KEY_HELP = (
    'make one with `python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`'
)

_TRUE = {"1", "true", "yes", "on"}
REMOVED_DYNAMIC_TOOLSETS = (
    "MISSIVE_DYNAMIC_TOOLSETS is no longer supported (see the README's Toolsets section): unset it and choose "
    "the toolsets to serve with MISSIVE_TOOLSETS (all for every one)"
)
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable."""


def env(name: str) -> Any:
    """A field read from the environment variable `name` (and, by its own name, from flags and code)."""
    return Field(validation_alias=AliasChoices(name), json_schema_extra={"env": name})


class Settings(Described):
    """The server's configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)

    api_token: Annotated[SecretStr | None, env("MISSIVE_API_TOKEN")] = None
    """Missive personal access token."""
    base_url: Annotated[str, env("MISSIVE_API_BASE_URL")] = DEFAULT_BASE_URL
    """Missive REST API root."""
    allow_send: Annotated[bool, env("MISSIVE_ALLOW_SEND")] = False
    """Whether drafts may be sent or scheduled."""
    read_only: Annotated[bool, env("MISSIVE_READ_ONLY")] = False
    """Only tools that change nothing in the mailbox."""
    toolsets: Annotated[frozenset[str], env("MISSIVE_TOOLSETS")] = frozenset(DEFAULT_TOOLSET_IDS)
    """Tool groups to serve (comma-separated; `all` for every one, `default` for the triage set)."""
    send_allowed_domains: Annotated[frozenset[str], env("MISSIVE_SEND_ALLOWED_DOMAINS")] = frozenset()
    """If set, sending is allowed only to these recipient domains (comma-separated)."""
    send_allowed_recipients: Annotated[frozenset[str], env("MISSIVE_SEND_ALLOWED_RECIPIENTS")] = frozenset()
    """With the domain allow-list on: phone numbers, usernames or ids that may also be sent to (comma-separated)."""
    timeout: Annotated[float, env("MISSIVE_TIMEOUT")] = 30.0
    """Seconds to wait for one answer from Missive (0.1 to 600)."""
    deadline: Annotated[float, env("MISSIVE_DEADLINE")] = 50.0
    """Seconds one tool call or resource read may take in all, retries and waits included (0.1 to 3600): under
    the 60 s after which most clients give up."""
    log_level: Annotated[LogLevel, env("MISSIVE_LOG_LEVEL")] = "INFO"
    """Level of the log written to stderr."""
    output_schemas: Annotated[Literal["full", "compact"], env("MISSIVE_OUTPUT_SCHEMAS")] = "full"
    """full: each tool's output schema in depth, with field descriptions; compact: top-level fields only, for
    clients that pass output schemas to the model (about 25 KB less in tools/list)."""
    attachment_max_mb: Annotated[float, env("MISSIVE_ATTACHMENT_MAX_MB")] = 5.0
    """The largest attachment get_attachment downloads and returns, in MB (up to 50)."""
    max_result_bytes: Annotated[int, env("MISSIVE_MAX_RESULT_BYTES")] = 60_000
    """The largest answer, in bytes of its text (4,000 to 10,000,000; about 15,000 tokens by default): a longer
    thread or list is cut at an item boundary and says how to read the rest."""
    confirm: Annotated[frozenset[Confirmable], env("MISSIVE_CONFIRM")] = frozenset({"send"})
    """What needs a person's yes (asked through the client) first: send (mail sent or scheduled), delete (every
    delete and merge), both (comma-separated), or none."""
    confirm_required: Annotated[bool, env("MISSIVE_CONFIRM_REQUIRED")] = False
    """Refuse what MISSIVE_CONFIRM lists when the client cannot ask the person (instead of letting it proceed)."""
    watch_interval: Annotated[float, env("MISSIVE_WATCH_INTERVAL")] = 30.0
    """Seconds between two looks at Missive while a client listens for changes or waits in watch_inbox (at least
    5; 0 turns watching off)."""
    webhook_secret: Annotated[SecretStr | None, env("MISSIVE_MCP_WEBHOOK_SECRET")] = None
    """HTTP: the secret of the Missive webhook rule posting to /webhooks/missive (its X-Hook-Signature is checked)."""
    mcp_auth_token: Annotated[SecretStr | None, env("MISSIVE_MCP_AUTH_TOKEN")] = None
    """Bearer key HTTP clients must present."""
    demo: Annotated[bool, env("MISSIVE_DEMO")] = False
    """Serve the built-in demo workspace (the fake Missive): no token, no network."""
    transport: Annotated[Transport, env("MISSIVE_MCP_TRANSPORT")] = "stdio"
    """How clients reach the server: stdio or http."""
    host: Annotated[str, env("MISSIVE_MCP_HOST")] = "127.0.0.1"
    """HTTP: the address to bind."""
    port: Annotated[int, env("MISSIVE_MCP_PORT")] = 8000
    """HTTP: the port to bind (1 to 65535)."""
    allowed_hosts: Annotated[tuple[str, ...], env("MISSIVE_MCP_ALLOWED_HOSTS")] = ()
    """HTTP: the Host names clients use (comma-separated); loopback and the bound host by default."""

    # HTTP budgets against clients that would exhaust the server (see http.py). ------------------------------
    http_max_body_bytes: Annotated[int, env("MISSIVE_MCP_MAX_BODY_BYTES")] = 10 * 1024 * 1024 + 256 * 1024
    """HTTP: the largest request body taken, in bytes (create_draft's 10 MB of attachments plus the envelope)."""
    http_header_timeout: Annotated[float, env("MISSIVE_MCP_HEADER_TIMEOUT")] = 10.0
    """HTTP: seconds a client has to send a request's headers (and the grace before a body's minimum rate)."""
    http_min_upload_rate: Annotated[int, env("MISSIVE_MCP_MIN_UPLOAD_RATE")] = 1000
    """HTTP: bytes a second a request body must keep up after the grace; a slower client is disconnected."""
    http_keep_alive: Annotated[int, env("MISSIVE_MCP_KEEP_ALIVE")] = 5
    """HTTP: seconds an idle kept-alive connection stays open."""
    http_max_connections: Annotated[int, env("MISSIVE_MCP_MAX_CONNECTIONS")] = 500
    """HTTP: connections served at once; past this, requests are answered 503 (keep it under the file limit)."""

    # The team server (MISSIVE_MCP_AUTH=oauth). --------------------------------------------------------------------
    auth: Annotated[AuthMode, env("MISSIVE_MCP_AUTH")] = "key"
    """HTTP: key (one shared MISSIVE_MCP_AUTH_TOKEN) or oauth (each person signs in with their own token)."""
    public_url: Annotated[str | None, env("MISSIVE_MCP_PUBLIC_URL")] = None
    """OAuth: the origin clients use, without /mcp (https://mcp.example.com); the issuer and resource URL."""
    secret_key: Annotated[tuple[SecretStr, ...], env("MISSIVE_MCP_SECRET_KEY")] = ()
    """OAuth: key(s) encrypting stored Missive tokens, comma-separated; the first encrypts, all decrypt."""
    database_url: Annotated[SecretStr, env("MISSIVE_MCP_DATABASE_URL")] = SecretStr(DEFAULT_DATABASE)
    """OAuth: a SQLite file path (default missive-mcp.sqlite3), or postgresql://... shared by replicas."""
    redis_url: Annotated[SecretStr | None, env("MISSIVE_MCP_REDIS_URL")] = None
    """redis://host:port/db: keep Missive's per-token limits in Redis, shared by every replica."""
    allowed_organizations: Annotated[frozenset[str], env("MISSIVE_MCP_ALLOWED_ORGANIZATIONS")] = frozenset()
    """OAuth: Missive organization ids whose members may sign in (comma-separated); anyone's token if empty."""
    signin_per_address: Annotated[int, env("MISSIVE_MCP_SIGNIN_PER_ADDRESS")] = 30
    """OAuth: tokens one source address may paste into the sign-in and key pages per MISSIVE_MCP_SIGNIN_WINDOW."""
    signin_per_client: Annotated[int, env("MISSIVE_MCP_SIGNIN_PER_CLIENT")] = 10
    """OAuth: tokens that may be pasted into the sign-ins of one registered client per MISSIVE_MCP_SIGNIN_WINDOW."""
    signin_window: Annotated[int, env("MISSIVE_MCP_SIGNIN_WINDOW")] = 900
    """OAuth: the window, in seconds, over which sign-in attempts are counted (10 to 86400)."""
    scrub_max_tokens: Annotated[int, env("MISSIVE_MCP_SCRUB_MAX_TOKENS")] = 1000
    """OAuth: Missive tokens the log scrubber keeps, most recently used first (a dropped one is learned again)."""

    # Budgets of the team server against strangers (issue 17; README "Running it on the internet"). ----------
    oauth_max_body_bytes: Annotated[int, env("MISSIVE_MCP_OAUTH_MAX_BODY_BYTES")] = 16 * 1024
    """OAuth: the largest body /register, /authorize, /token, /revoke and the sign-in pages take; more gets 413."""
    registrations_per_hour: Annotated[int, env("MISSIVE_MCP_REGISTRATIONS_PER_HOUR")] = 20
    """OAuth: client registrations one source address may make in an hour; more are refused with 429."""
    client_retention_days: Annotated[int, env("MISSIVE_MCP_CLIENT_RETENTION_DAYS")] = 30
    """OAuth: days a registered client is kept without a sign-in or refresh; then it is deleted."""
    streams_per_person: Annotated[int, env("MISSIVE_MCP_STREAMS_PER_PERSON")] = 4
    """HTTP: streamed calls (progress over SSE) one person or key may have open at once; more get 429."""

    @field_validator("auth", mode="before")
    @classmethod
    def _auth(cls, value: Any) -> Any:
        word = str(value).strip().lower()
        if word not in ("key", "oauth"):
            raise ValueError(f"must be key or oauth, not {value!r}")
        return word

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if value is None:
            return None
        url = str(value).strip().rstrip("/")
        if not url:
            return None
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "?" in rest or "#" in rest:
            raise ValueError(f"must be an origin like https://mcp.example.com (no path, not even /mcp), not {url!r}")
        host = rest.rsplit("@", 1)[-1].split(":")[0].strip("[]")
        if scheme == "http" and host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("must use https (terminate TLS in front of the server); http only for localhost")
        return url

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_key(cls, value: Any) -> Any:
        import base64
        import binascii

        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        parts = [p.get_secret_value() if isinstance(p, SecretStr) else str(p) for p in _parts(raw)]
        for number, part in enumerate((p.strip() for p in parts), start=1):
            try:
                decoded = base64.urlsafe_b64decode(part.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError, ValueError):
                decoded = b""
            if len(decoded) != 32 or len(part) != 44:
                raise ValueError(f"key {number} is not 32 bytes in URL-safe base64 (44 characters); {SECRET_KEY_HELP}")
        return tuple(SecretStr(p.strip()) for p in parts)

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".test")  # .test: reserved, never real
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(f"must be an https:// URL such as {DEFAULT_BASE_URL}, not {str(value)[:80]!r}")
        if parts.scheme == "http" and not local:
            raise ValueError(f"must use https (the token travels with every request), not {str(value)[:80]!r}")
        return text

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        raw = (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()
        if not raw:
            return SecretStr(DEFAULT_DATABASE)
        scheme = raw.partition("://")[0] if "://" in raw else ""
        if scheme not in ("", "sqlite", "postgresql", "postgres"):
            raise ValueError("must be a SQLite file path, sqlite:///path or postgresql://user:pass@host:port/db")
        return SecretStr(raw)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: Any) -> Any:
        raw = (value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")).strip()
        if not raw:
            return None
        if not raw.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a Redis URL like redis://host:6379/0")
        return SecretStr(raw)

    @field_validator("allowed_organizations", mode="before")
    @classmethod
    def _organizations(cls, value: Any) -> Any:
        ids = {part.strip() for part in _parts(value)}
        bad = sorted(i for i in ids if not i.replace("-", "").isalnum())
        if bad:
            raise ValueError(f"has invalid organization id(s) {', '.join(bad)[:120]}; use ids from list_organizations")
        return frozenset(ids)

    @model_validator(mode="after")
    def _oauth_needs(self) -> Settings:
        if self.auth == "oauth":
            missing = [variable_of(name) for name in ("secret_key", "public_url") if not getattr(self, name)]
            if missing:
                raise ValueError(
                    f"MISSIVE_MCP_AUTH=oauth needs {' and '.join(missing)}: "
                    + "; ".join(_OAUTH_HELP[name] for name in missing)
                )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from `environ` (default: the process environment); `overrides` (by field name) win.

        An empty variable counts as unset. Raises SettingsError naming the variable (or flag) at fault."""
        environ = os.environ if environ is None else environ
        if environ.get("MISSIVE_DYNAMIC_TOOLSETS", "").strip().lower() in _TRUE:
            raise SettingsError(REMOVED_DYNAMIC_TOOLSETS)
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = environ.get(variable_of(name), "").strip()
            if raw:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values, by_name=True)
        except ValidationError as exc:
            raise SettingsError(describe(exc)) from None

    # Validators: each accepts the typed value (code, flags) or the environment's string. ---------------

    @field_validator("confirm", mode="before")
    @classmethod
    def _confirm(cls, value: Any) -> Any:
        words: set[str] = {part.strip().lower() for part in _parts(value)}
        if words == {"none"}:
            return frozenset[str]()
        unknown = sorted(words - {"send", "delete"})
        if unknown or not words:
            raise ValueError(f"must be send, delete, send,delete or none, not {value!r}")
        return frozenset(words)

    @field_validator("watch_interval", mode="before")
    @classmethod
    def _watch_interval(cls, value: Any) -> Any:
        number = _number(value, 0, 86400, "a number of seconds")
        if 0 < number < WATCH_MIN_INTERVAL:
            raise ValueError(f"must be 0 (off) or at least {WATCH_MIN_INTERVAL:g} seconds, not {value!r}")
        return number

    @field_validator("api_token", "mcp_auth_token", "webhook_secret", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            raw = raw.strip()
            if not raw:
                return None
            if not raw.isascii() or not raw.isprintable():
                raise ValueError("must be printable ASCII (check for a pasted newline or quote)")
        return raw

    @field_validator("allow_send", "read_only", "demo", "confirm_required", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ValueError(f"must be true or false, not {value!r}")
        return value

    @field_validator("toolsets", mode="before")
    @classmethod
    def _toolsets(cls, value: Any) -> Any:
        names = {part.strip().lower() for part in _parts(value)}
        if "all" in names:
            return frozenset(TOOLSET_IDS)
        if not names or "default" in names:
            names = (names - {"default"}) | set(DEFAULT_TOOLSET_IDS)
        unknown = sorted(names - set(TOOLSET_IDS))
        if unknown:
            raise ValueError(f"has unknown toolset(s) {', '.join(unknown)}; use {', '.join(TOOLSET_IDS)} or all")
        return frozenset(names)

    @field_validator("send_allowed_domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> Any:
        from .recipients import normalise_domain

        domains: set[str] = set()
        bad: list[str] = []
        for part in _parts(value):
            name = part.strip().lstrip("@")
            try:
                domain = normalise_domain(name)
            except ValueError:
                domain = ""
            if "." not in domain or "@" in name:
                bad.append(name)
            domains.add(domain)
        if bad:
            raise ValueError(f"has invalid domain(s) {', '.join(sorted(bad))}; use e.g. acme.com")
        return frozenset(domains)

    @field_validator("send_allowed_recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        return frozenset(part.strip() for part in _parts(value))

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return tuple(part.strip() for part in _parts(value))

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return _number(value, 0.1, 600, "a number of seconds")

    @field_validator("output_schemas", mode="before")
    @classmethod
    def _schemas(cls, value: Any) -> Any:
        word = str(value).strip().lower()
        if word not in ("full", "compact"):
            raise ValueError(f"must be full or compact, not {value!r}")
        return word

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline(cls, value: Any) -> Any:
        return _number(value, 0.1, 3600, "a number of seconds")

    @field_validator("attachment_max_mb", mode="before")
    @classmethod
    def _attachment_max(cls, value: Any) -> Any:
        return _number(value, 0.0001, 50, "a number of MB")

    @field_validator("max_result_bytes", mode="before")
    @classmethod
    def _result_bytes(cls, value: Any) -> Any:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not 4000 <= number <= 10_000_000 or number != int(number):  # NaN fails too
            raise ValueError(f"must be a whole number of bytes from 4000 to 10000000, not {value!r}")
        return int(number)

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> Any:
        number = _number(value, 1, 65535, "a port number")
        if number != int(number):
            raise ValueError(f"must be a port number from 1 to 65535, not {value!r}")
        return int(number)

    @field_validator("http_header_timeout", mode="before")
    @classmethod
    def _header_timeout(cls, value: Any) -> Any:
        return _number(value, 0.1, 300, "a number of seconds")

    @field_validator(
        "http_max_body_bytes",
        "http_min_upload_rate",
        "http_keep_alive",
        "http_max_connections",
        "signin_per_address",
        "signin_per_client",
        "signin_window",
        "scrub_max_tokens",
        "oauth_max_body_bytes",
        "registrations_per_hour",
        "client_retention_days",
        "streams_per_person",
        mode="before",
    )
    @classmethod
    def _counts(cls, value: Any, info: ValidationInfo) -> Any:
        low, high = {
            "http_max_body_bytes": (1024, 1 << 30),
            "http_min_upload_rate": (1, 1 << 30),
            "http_keep_alive": (1, 3600),
            "http_max_connections": (1, 1_000_000),
            "signin_per_address": (1, 1_000_000),
            "signin_per_client": (1, 1_000_000),
            "signin_window": (10, 86400),
            "scrub_max_tokens": (10, 1_000_000),
            "oauth_max_body_bytes": (1024, 1 << 20),
            "registrations_per_hour": (1, 1_000_000),
            "client_retention_days": (1, 3650),
            "streams_per_person": (1, 10_000),
        }[info.field_name or ""]
        number = _number(value, low, high, "a whole number")
        if number != int(number):
            raise ValueError(f"must be a whole number from {low} to {high}, not {value!r}")
        return int(number)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        word = str(value).strip().upper()
        if word not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"must be DEBUG, INFO, WARNING or ERROR, not {value!r}")
        return word

    @field_validator("transport", mode="before")
    @classmethod
    def _transport(cls, value: Any) -> Any:
        word = str(value).strip().lower()
        if word not in ("stdio", "http"):
            raise ValueError(f"must be stdio or http, not {value!r}")
        return word


ENVIRONMENT_ONLY = frozenset({"secret_key", "database_url", "redis_url", "webhook_secret"})
"""Secrets (or URLs that may hold a password) with no command-line flag: a flag would show in `ps`."""

_OAUTH_HELP = {
    "MISSIVE_MCP_SECRET_KEY": f"MISSIVE_MCP_SECRET_KEY encrypts the Missive tokens people paste ({SECRET_KEY_HELP})",
    "MISSIVE_MCP_PUBLIC_URL": "MISSIVE_MCP_PUBLIC_URL is the https origin clients reach (https://mcp.example.com)",
}


def variable_of(field: str) -> str:
    """The environment variable of a settings field."""
    match Settings.model_fields[field].json_schema_extra:
        case {"env": str(env)}:
            return env
        case _:
            raise AssertionError(f"settings field {field!r} names no environment variable")


def _parts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return [str(part) for part in value if str(part).strip()]


def _number(value: Any, low: float, high: float, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:  # NaN fails too
        raise ValueError(f"must be {what} from {low:g} to {high:g}, not {value!r}")
    return number


def describe(error: ValidationError) -> str:
    """One sentence per refused setting, naming its environment variable (and flag)."""
    problems: list[str] = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        name = variable_of(field) if field in Settings.model_fields else field
        flagged = field in Settings.model_fields and "token" not in field and field not in ENVIRONMENT_ONLY
        flag = f" (flag --{field.replace('_', '-')})" if flagged else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a setting"
        problems.append(f"{name} {message}{flag}." if name else f"{message}.")
    return " ".join(problems)
