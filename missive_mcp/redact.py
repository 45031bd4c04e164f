"""Secrets kept out of every log line: the configured ones, and each person's Missive token as it is used.

In oauth mode the Missive tokens are not known at start-up; the client remembers each one the first time a
call uses it, so the log filter can replace it wherever a library (the HTTP stack at DEBUG, an exception
message) would write it.
"""

from __future__ import annotations

import logging

_secrets: set[str] = set()
MIN_SECRET = 8
"""Shorter strings are not remembered: replacing them would garble ordinary words in the log."""


def remember(secret: str) -> None:
    """Keep `secret` out of every log line from now on."""
    if len(secret) >= MIN_SECRET:
        _secrets.add(secret)


def scrub(text: str) -> str:
    """`text` with every remembered secret replaced by "[redacted]"."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    """Keeps secrets out of every log line, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
