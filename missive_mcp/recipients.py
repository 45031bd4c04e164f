"""Recipients parsed, not split: the send gate's recipient-domain allow-list.

An address an agent gives is accepted only when it is exactly one mailbox: one `@`, a local part and a domain,
no separators (`,` `;`), no display-name syntax (`<` `>` `"` `(` `)`), no whitespace and no control character.
Its domain is IDNA-normalised (`BÜCHER.example` and `xn--bcher-kva.example` are the same domain) before it is
compared with the allow-list. With the allow-list on, a recipient given by phone number, username or id has no
domain to check: it is refused unless the operator lists it in MISSIVE_SEND_ALLOWED_RECIPIENTS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna

from .errors import InvalidArgumentError, PermissionDeniedError

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+|[^\x00-\x7f@\s,;<>\"()\[\]\\]+")
"""A local part: the atext of RFC 5322 (dots allowed) or internationalised letters; never quotes or separators."""
MAX_ADDRESS = 254


@dataclass(frozen=True)
class Recipient:
    """One recipient as the agent gave it, and where (`to_fields[1]`), for error messages."""

    where: str
    name: str | None = None
    address: str | None = None
    phone_number: str | None = None
    id: str | None = None
    username: str | None = None


def normalise_domain(domain: str) -> str:
    """The ASCII (punycode) lowercase form of a domain; ValueError if it is not a valid host name."""
    text = domain.strip().rstrip(".")
    if not text:
        raise ValueError("empty domain")
    return idna.encode(text, uts46=True).decode("ascii").lower()


def parse_address(address: str, where: str) -> tuple[str, str]:
    """Split one mailbox into (local part, normalised domain), refusing anything that is not exactly one."""
    if len(address) > MAX_ADDRESS:
        raise InvalidArgumentError(where, f"is {len(address)} characters; an email address has at most 254.")
    if any(ch.isspace() or not ch.isprintable() for ch in address):
        raise InvalidArgumentError(
            where, "contains whitespace or a control character; give one bare address such as ana@acme.com."
        )
    if any(ch in address for ch in ',;<>"()[]\\'):
        raise InvalidArgumentError(
            where,
            f"{address[:80]!r} is not one bare address: give each recipient as its own entry, address only "
            "(the name goes in `name`).",
        )
    if address.count("@") != 1:
        raise InvalidArgumentError(where, f"{address[:80]!r} must contain exactly one '@'.")
    local, _, domain = address.partition("@")
    if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidArgumentError(where, f"{address[:80]!r} has an invalid part before the '@'.")
    try:
        host = normalise_domain(domain)
    except (ValueError, idna.IDNAError):
        raise InvalidArgumentError(where, f"{address[:80]!r} has an invalid domain after the '@'.") from None
    if "." not in host:
        raise InvalidArgumentError(where, f"{address[:80]!r} needs a full domain such as acme.com.")
    return local, host


def check_format(recipients: list[Recipient]) -> None:
    """Every email address given is exactly one well-formed mailbox (whether or not the draft is sent)."""
    for recipient in recipients:
        if recipient.name is not None and any(not ch.isprintable() for ch in recipient.name):
            raise InvalidArgumentError(f"{recipient.where}.name", "must be one line without control characters.")
        if recipient.address is not None:
            parse_address(recipient.address, f"{recipient.where}.address")


def check_allowed(recipients: list[Recipient], domains: frozenset[str], others: frozenset[str]) -> None:
    """With an allow-list, every recipient is one address in an allowed domain, or an identifier the operator
    listed; a recipient that also carries a phone number, username or id is refused (Missive might use those)."""
    allowed = ", ".join(sorted(domains))
    for recipient in recipients:
        given = [value for value in (recipient.phone_number, recipient.id, recipient.username) if value is not None]
        if recipient.address is None:
            if len(given) == 1 and given[0] in others:
                continue
            who = given[0] if given else "a recipient without an address"
            raise PermissionDeniedError(
                f"Sending to {who[:80]} ({recipient.where}) is not allowed: this server sends only to addresses "
                f"at {allowed} (MISSIVE_SEND_ALLOWED_DOMAINS); phone numbers, usernames and ids only if listed in "
                "MISSIVE_SEND_ALLOWED_RECIPIENTS. Nothing was created or sent."
            )
        if given:
            raise PermissionDeniedError(
                f"{recipient.where} gives an address and also a phone number, username or id: with the "
                "recipient allow-list on, give the address alone. Nothing was created or sent."
            )
        _, host = parse_address(recipient.address, f"{recipient.where}.address")
        if host not in domains:
            raise PermissionDeniedError(
                f"Sending to {recipient.address} is not allowed: this server sends only to {allowed} "
                "(MISSIVE_SEND_ALLOWED_DOMAINS). Nothing was created or sent."
            )
