"""Secrets kept out of every log line: the configured ones, the server's own bearer tokens and keys, and each
person's Missive token once Missive has accepted it.

Only what proved to be a secret is learned: a string someone pastes into the sign-in page is learned when
Missive accepts it as a token, never before (a pasted email, user id or sentence would otherwise blank every
later log line that holds it). Learned tokens are kept most recently used first, up to a cap
(MISSIVE_MCP_SCRUB_MAX_TOKENS); a token dropped from the list is learned again on its next use. The server's own
tokens (`mma_`, `mmr_`, `mmc_`, `mmk_` and 43 random characters) are recognised by their shape, so none of them
is ever held here.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict

MIN_TOKEN = 20
"""The shortest string treated as a Missive token, in results and logs. Real tokens are far longer (a UUID is 36
characters; `missive_pat-` tokens are longer still) and the server's own are 47, while words, ids cut short and
test fixtures are shorter: replacing a short string would garble ordinary text that merely contains it."""
MIN_CONFIGURED = 8
"""The shortest configured secret (MISSIVE_API_TOKEN, MISSIVE_MCP_AUTH_TOKEN...) kept out of the log: an operator
named it a secret, so it is hidden even when short, but not a few letters that would blank ordinary words."""
DEFAULT_MAX_TOKENS = 1000

_ISSUED = re.compile(r"\bmm[arck]_[A-Za-z0-9_-]{43}")
"""The server's own access, refresh, code and key secrets (`provider.new_secret`)."""

_configured: set[str] = set()
_learned: OrderedDict[str, None] = OrderedDict()
_cap = DEFAULT_MAX_TOKENS


def remember(secret: str) -> None:
    """Keep a configured secret out of every log line for the life of the process."""
    if len(secret) >= MIN_CONFIGURED:
        _configured.add(secret)


def learn(token: str) -> None:
    """Keep a token that proved to be one (Missive accepted it) out of the log while it is in use."""
    if len(token) < MIN_TOKEN or token in _configured:
        return
    _learned[token] = None
    _learned.move_to_end(token)
    while len(_learned) > _cap:
        _learned.popitem(last=False)


def limit(max_tokens: int) -> None:
    """How many learned tokens are kept (MISSIVE_MCP_SCRUB_MAX_TOKENS); the least recently used go first."""
    global _cap
    _cap = max_tokens
    while len(_learned) > _cap:
        _learned.popitem(last=False)


def learned() -> int:
    """How many tokens the scrubber holds beyond the configured secrets."""
    return len(_learned)


def hideable(token: str) -> str:
    """`token` if it is long enough to be hidden from results without garbling them, else ""."""
    return token if len(token) >= MIN_TOKEN else ""


def scrub(text: str) -> str:
    """`text` with every known secret replaced by "[redacted]"."""
    for secret in (*_configured, *_learned):
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return _ISSUED.sub("[redacted]", text) if "mm" in text else text


class RedactingFilter(logging.Filter):
    """Keeps secrets out of every log line, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
