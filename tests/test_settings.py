import pytest

from missive_mcp.settings import DEFAULT_BASE_URL, Settings, SettingsError
from missive_mcp.toolsets import DEFAULT_TOOLSET_IDS as DEFAULT_TOOLSETS
from missive_mcp.toolsets import TOOLSET_IDS as TOOLSETS


def test_defaults_are_safe_without_any_environment() -> None:
    settings = Settings.from_env({})
    assert settings.api_token is None
    assert settings.base_url == DEFAULT_BASE_URL
    assert not settings.allow_send and not settings.read_only
    assert settings.toolsets == frozenset(DEFAULT_TOOLSETS) and DEFAULT_TOOLSETS != TOOLSETS


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "MISSIVE_API_TOKEN": " missive_pat-abc ",
            "MISSIVE_API_BASE_URL": "http://127.0.0.1:9/v1",
            "MISSIVE_ALLOW_SEND": "yes",
            "MISSIVE_READ_ONLY": "1",
            "MISSIVE_TOOLSETS": "conversations, Drafts",
            "MISSIVE_SEND_ALLOWED_DOMAINS": "acme.com,@example.org",
            "MISSIVE_TIMEOUT": "12.5",
            "MISSIVE_LOG_LEVEL": "debug",
        }
    )
    assert settings.api_token is not None and settings.api_token.get_secret_value() == "missive_pat-abc"
    assert settings.base_url == "http://127.0.0.1:9/v1"
    assert settings.allow_send and settings.read_only
    assert settings.toolsets == {"conversations", "drafts"}
    assert settings.send_allowed_domains == {"acme.com", "example.org"}
    assert settings.timeout == 12.5
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MISSIVE_ALLOW_SEND", "maybe", "MISSIVE_ALLOW_SEND must be true or false"),
        ("MISSIVE_TOOLSETS", "conversations,mail", "unknown toolset(s) mail"),
        ("MISSIVE_TIMEOUT", "forever", "MISSIVE_TIMEOUT must be a number"),
        ("MISSIVE_LOG_LEVEL", "loud", "MISSIVE_LOG_LEVEL must be"),
        ("MISSIVE_SEND_ALLOWED_DOMAINS", "localhost", "invalid domain(s) localhost"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_takes(variable: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({variable: value})


def test_the_token_never_shows_in_the_settings_repr() -> None:
    settings = Settings.from_env({"MISSIVE_API_TOKEN": "missive_pat-secret"})
    assert "missive_pat-secret" not in repr(settings)
    assert "missive_pat-secret" not in str(settings.model_dump())


def test_settings_built_in_code_are_validated_like_the_environment() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Settings(timeout=-1)
    with pytest.raises(ValueError, match="port"):
        Settings(port=70000)
    assert Settings.model_validate({"toolsets": "drafts,contacts"}).toolsets == {"drafts", "contacts"}


def test_serving_settings_come_from_the_environment_and_name_the_variable() -> None:
    settings = Settings.from_env(
        {"MISSIVE_DEMO": "on", "MISSIVE_MCP_TRANSPORT": "HTTP", "MISSIVE_MCP_PORT": "8123", "MISSIVE_MCP_HOST": "::"}
        | {"MISSIVE_MCP_ALLOWED_HOSTS": "mcp.acme.com, other.acme.com"}
    )
    assert (settings.demo, settings.transport, settings.port, settings.host) == (True, "http", 8123, "::")
    assert settings.allowed_hosts == ("mcp.acme.com", "other.acme.com")
    port = r"MISSIVE_MCP_PORT must be a port number from 1 to 65535, not 'http' \(flag --port\)"
    with pytest.raises(SettingsError, match=port):
        Settings.from_env({"MISSIVE_MCP_PORT": "http"})
    with pytest.raises(SettingsError, match=r"MISSIVE_MCP_TRANSPORT must be stdio or http"):
        Settings.from_env({"MISSIVE_MCP_TRANSPORT": "sse"})


def test_flags_override_the_environment_field_by_field() -> None:
    from missive_mcp.__main__ import load_settings, parser

    args = parser().parse_args(["--read-only", "--timeout", "7", "--toolsets", "drafts", "--port", "9001"])
    settings = load_settings(args)
    assert settings.read_only and settings.timeout == 7.0 and settings.toolsets == {"drafts"}
    assert settings.port == 9001


def test_a_token_with_a_newline_or_non_ascii_is_refused_without_showing_it() -> None:
    for token in ("missive_pat-abc\ndef", "missive_pat-ébc"):
        with pytest.raises(SettingsError, match="MISSIVE_API_TOKEN must be printable ASCII") as refused:
            Settings.from_env({"MISSIVE_API_TOKEN": token})
        assert token not in str(refused.value)


# The team server ------------------------------------------------------------------------------------

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes, URL-safe base64
TEAM = {"MISSIVE_MCP_AUTH": "oauth", "MISSIVE_MCP_PUBLIC_URL": "https://mcp.example.com", "MISSIVE_MCP_SECRET_KEY": KEY}


def test_the_team_servers_settings_are_read() -> None:
    settings = Settings.from_env(
        TEAM
        | {
            "MISSIVE_MCP_SECRET_KEY": f"{KEY}, {KEY.replace('A', 'B', 1)}",
            "MISSIVE_MCP_DATABASE_URL": "postgresql://missive:pw@db:5432/mcp",
            "MISSIVE_MCP_REDIS_URL": "redis://cache:6379/0",
            "MISSIVE_MCP_ALLOWED_ORGANIZATIONS": "org-1, org-2",
        }
    )
    assert settings.auth == "oauth" and settings.public_url == "https://mcp.example.com"
    assert [k.get_secret_value() for k in settings.secret_key] == [KEY, KEY.replace("A", "B", 1)]
    assert settings.database_url.get_secret_value() == "postgresql://missive:pw@db:5432/mcp"
    assert settings.redis_url is not None and settings.redis_url.get_secret_value() == "redis://cache:6379/0"
    assert settings.allowed_organizations == {"org-1", "org-2"}
    assert "pw@db" not in repr(settings) and KEY not in repr(settings)
    plain = Settings.from_env({})
    assert plain.auth == "key" and plain.database_url.get_secret_value() == "missive-mcp.sqlite3"
    assert plain.redis_url is None and plain.secret_key == ()


def test_oauth_mode_refuses_to_start_without_its_secret_key_or_public_url_and_says_which() -> None:
    with pytest.raises(SettingsError) as both:
        Settings.from_env({"MISSIVE_MCP_AUTH": "oauth"})
    assert str(both.value).startswith("MISSIVE_MCP_AUTH=oauth needs MISSIVE_MCP_SECRET_KEY and MISSIVE_MCP_PUBLIC_URL")
    for missing in ("MISSIVE_MCP_SECRET_KEY", "MISSIVE_MCP_PUBLIC_URL"):
        with pytest.raises(SettingsError) as one:
            Settings.from_env({k: v for k, v in TEAM.items() if k != missing})
        assert str(one.value).startswith(f"MISSIVE_MCP_AUTH=oauth needs {missing}:")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MISSIVE_MCP_AUTH", "password", "MISSIVE_MCP_AUTH must be key or oauth, not 'password'"),
        ("MISSIVE_MCP_SECRET_KEY", "short", "MISSIVE_MCP_SECRET_KEY key 1 is not 32 bytes in URL-safe base64"),
        ("MISSIVE_MCP_SECRET_KEY", f"{KEY},nope", "MISSIVE_MCP_SECRET_KEY key 2 is not 32 bytes"),
        ("MISSIVE_MCP_PUBLIC_URL", "https://mcp.example.com/mcp", "no path, not even /mcp"),
        ("MISSIVE_MCP_PUBLIC_URL", "http://mcp.example.com", "must use https"),
        ("MISSIVE_MCP_DATABASE_URL", "mysql://db/x", "MISSIVE_MCP_DATABASE_URL must be a SQLite file path"),
        ("MISSIVE_MCP_REDIS_URL", "cache:6379", "MISSIVE_MCP_REDIS_URL must be a Redis URL"),
        ("MISSIVE_MCP_ALLOWED_ORGANIZATIONS", "acme support", "invalid organization id(s) acme support"),
    ],
)
def test_a_bad_team_setting_is_refused_naming_its_variable(variable: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(TEAM | {variable: value})
    assert named in str(refused.value)
    if variable in ("MISSIVE_MCP_SECRET_KEY", "MISSIVE_MCP_DATABASE_URL", "MISSIVE_MCP_REDIS_URL"):
        assert "(flag --" not in str(refused.value)  # environment only: a flag would show in `ps`
        assert value not in str(refused.value)  # a secret (or a URL with a password) is never echoed


def test_the_demo_shows_every_toolset_unless_they_were_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    from missive_mcp.__main__ import load_settings, parser

    monkeypatch.delenv("MISSIVE_TOOLSETS", raising=False)
    assert load_settings(parser().parse_args(["--demo"])).toolsets == frozenset(TOOLSETS)
    assert load_settings(parser().parse_args(["--demo", "--toolsets", "drafts"])).toolsets == {"drafts"}
    assert load_settings(parser().parse_args([])).toolsets == frozenset(DEFAULT_TOOLSETS)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://public.missiveapp.com/v1", "must be an https:// URL"),
        ("not a url", "must be an https:// URL"),
        ("http://public.missiveapp.com/v1", "must use https (the token travels with every request)"),
    ],
)
def test_the_api_root_must_be_https_unless_it_is_this_machine(url: str, said: str) -> None:
    with pytest.raises(SettingsError, match=r"MISSIVE_API_BASE_URL " + said.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({"MISSIVE_API_BASE_URL": url})
    assert Settings(base_url="http://127.0.0.1:9000/v1/").base_url == "http://127.0.0.1:9000/v1"


def test_the_removed_dynamic_toolsets_setting_says_what_to_use_instead() -> None:
    with pytest.raises(SettingsError, match=r"MISSIVE_DYNAMIC_TOOLSETS is no longer supported .* MISSIVE_TOOLSETS"):
        Settings.from_env({"MISSIVE_DYNAMIC_TOOLSETS": "true"})
    assert Settings.from_env({"MISSIVE_DYNAMIC_TOOLSETS": "false"}).toolsets == frozenset(DEFAULT_TOOLSETS)
