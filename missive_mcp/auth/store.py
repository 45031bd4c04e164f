"""Where the team server keeps sign-ins: a SQLite file on one machine, PostgreSQL for replicas.

Nothing a sign-in needs lives in a replica's memory: registered clients, pending sign-ins, codes, tokens and
keys are rows, so each step of a sign-in may reach another replica and a revoked grant stops everywhere at once.
Tokens, codes and keys are stored as HMAC digests keyed with the server's secret; each person's Missive token is
sealed (`crypto.py`). A revoked grant keeps its row (who, when) but not its sealed token.

    clients   one row per registered OAuth client (its metadata as JSON)
    requests  pending sign-ins: the client's authorization request, then whose token was pasted
    grants    one per sign-in or server key: the person, their sealed Missive token, revoked_at
    secrets   digests of codes, access and refresh tokens and server keys, each pointing at its grant; a refresh
              token once used stays as kind "spent" until it would have expired, so a replay can be recognised

The server creates and migrates the schema itself (`migrate`, run at start-up; PostgreSQL takes an advisory lock
so replicas starting together migrate once).
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.to_thread

Row = tuple[Any, ...]
Statement = tuple[str, Sequence[Any]] | tuple[str, Sequence[Any], Callable[[list[Row]], bool]]
"""SQL and its parameters; a third item makes it a guard: the transaction stops (and commits) where it says no."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE clients (client_id TEXT PRIMARY KEY, info TEXT NOT NULL, created_at {int} NOT NULL)",
        "CREATE TABLE requests (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, params TEXT NOT NULL,"
        " expires_at {int} NOT NULL, person TEXT, sealed_token TEXT)",
        "CREATE TABLE grants (id TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, label TEXT,"
        " user_id TEXT NOT NULL, user_email TEXT, user_name TEXT, organization_id TEXT,"
        " sealed_token TEXT NOT NULL, scopes TEXT NOT NULL, resource TEXT,"
        " created_at {int} NOT NULL, revoked_at {int})",
        "CREATE TABLE secrets (digest TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " grant_id TEXT NOT NULL REFERENCES grants(id), expires_at {int}, data TEXT)",
        "CREATE INDEX secrets_by_grant ON secrets (grant_id)",
        "CREATE INDEX grants_by_user ON grants (user_id)",
        "CREATE INDEX secrets_by_expiry ON secrets (expires_at)",
    ),
    (
        # Digests became keyed (HMAC): the plain SHA-256 rows of version 1 must open nothing, and cannot be
        # re-keyed without the secrets themselves. Everyone signs in again; server keys are made anew.
        "ALTER TABLE requests ADD COLUMN consent TEXT",
        "DELETE FROM requests",
        "DELETE FROM secrets",
        "UPDATE grants SET revoked_at = COALESCE(revoked_at, created_at), sealed_token = ''",
    ),
    (  # issue 17: registrations counted per source address, unused clients forgotten
        "ALTER TABLE clients ADD COLUMN source TEXT",
        "ALTER TABLE clients ADD COLUMN last_used_at {int}",
        "CREATE INDEX clients_by_source ON clients (source, created_at)",
    ),
    (
        # Each secret carries a keyed tag over its digest, grant and expiry; untagged rows open nothing.
        "ALTER TABLE secrets ADD COLUMN tag TEXT",
        "DELETE FROM secrets",
    ),
)
"""Schema versions: MIGRATIONS[n] takes the schema from version n to n + 1. Append; never edit a shipped one."""


class Database(Protocol):
    """One SQL dialect's connection: `?` placeholders, rows as tuples."""

    dialect: str

    async def run(self, statements: Sequence[Statement]) -> list[Row]:
        """Run statements in one transaction; the rows of the last one run."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Person:
    """Whose Missive token it is, as Missive told us at sign-in."""

    user_id: str
    email: str | None
    name: str | None
    organization_id: str | None

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Person:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Pending:
    """A sign-in a client started at /authorize, and once a token was pasted, whose it is."""

    client_id: str
    params: str
    person: Person | None
    sealed_token: str | None
    consent: str | None
    """The digest of the browser secret the person's page was given when they pasted their token."""


@dataclass(frozen=True)
class Grant:
    """One sign-in (kind "oauth") or server key (kind "key"): a person and their sealed Missive token."""

    id: str
    kind: str
    client_id: str
    label: str | None
    person: Person
    sealed_token: str
    scopes: list[str]
    resource: str | None
    created_at: int
    revoked_at: int | None = None


_GRANT_COLUMNS = (
    "g.id, g.kind, g.client_id, g.label, g.user_id, g.user_email, g.user_name, g.organization_id, g.sealed_token,"
    " g.scopes, g.resource, g.created_at, g.revoked_at"
)


@dataclass(frozen=True)
class Found:
    """A live grant found by one of its secrets."""

    grant: Grant
    expires_at: int | None
    data: str | None
    digest: str
    """The digest the secret is stored under (under an older key, during a rotation)."""


def _grant(row: Row) -> Grant:
    person = Person(row[4], row[5], row[6], row[7])
    return Grant(row[0], row[1], row[2], row[3], person, row[8], json.loads(row[9]), row[10], row[11], row[12])


class Store:
    """The sign-in tables over one database; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tags: Callable[[str, str, int | None], list[str]] | None = None
        """Keyed tags binding a secret's digest to its grant and expiry (`Sealer.tags`), set by the provider;
        without them no stored secret is found."""
        self._migrated = False
        self._lock = anyio.Lock()

    async def _run(self, statements: Sequence[Statement]) -> list[Row]:
        if not self._migrated:  # the first use creates or migrates the schema
            async with self._lock:
                if not self._migrated:
                    await self.migrate()
        return await self.db.run(statements)

    async def migrate(self) -> int:
        """Bring the schema to the latest version; the version it is at."""
        int_type = "BIGINT" if self.db.dialect == "postgresql" else "INTEGER"
        lock: list[Statement] = (
            [("SELECT pg_advisory_xact_lock(4242001)", ())] if self.db.dialect == "postgresql" else []
        )
        create: Statement = ("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", ())
        rows = await self.db.run([*lock, create, ("SELECT version FROM schema_version", ())])
        for version in range(rows[0][0] if rows else 0, len(MIGRATIONS)):
            # Another replica may have migrated while we waited for the lock: the step re-checks inside it.
            def still_at(found: list[Row], version: int = version) -> bool:
                return (found[0][0] if found else 0) == version

            guard: Statement = ("SELECT version FROM schema_version", (), still_at)
            steps: list[Statement] = [(sql.format(int=int_type), ()) for sql in MIGRATIONS[version]]
            steps += [("DELETE FROM schema_version", ()), ("INSERT INTO schema_version VALUES (?)", (version + 1,))]
            await self.db.run([*lock, guard, *steps])
        self._migrated = True
        return len(MIGRATIONS)

    async def aclose(self) -> None:
        await self.db.aclose()

    # Clients -----------------------------------------------------------------------------------

    async def put_client(self, client_id: str, info: str, source: str | None = None) -> None:
        sql = "INSERT INTO clients (client_id, info, created_at, source) VALUES (?, ?, ?, ?)"
        await self._run([(sql, (client_id, info, _now(), source))])

    async def registrations_since(self, source: str, since: int) -> int:
        """How many clients `source` (a digest of an address) registered since `since`."""
        sql = "SELECT COUNT(*) FROM clients WHERE source = ? AND created_at >= ?"
        return int((await self._run([(sql, (source, since))]))[0][0])

    async def forget_clients(self, unused_since: int) -> int:
        """Delete clients neither registered nor used since `unused_since` that hold no live grant; how many."""
        sql = (
            "DELETE FROM clients WHERE COALESCE(last_used_at, created_at) < ?"
            " AND client_id NOT IN (SELECT client_id FROM grants WHERE revoked_at IS NULL) RETURNING client_id"
        )
        return len(await self._run([(sql, (unused_since,))]))

    async def client_used(self, client_id: str) -> None:
        """A client signed someone in or refreshed its tokens: it is kept for another retention period."""
        await self._run([("UPDATE clients SET last_used_at = ? WHERE client_id = ?", (_now(), client_id))])

    async def get_client(self, client_id: str) -> str | None:
        rows = await self._run([("SELECT info FROM clients WHERE client_id = ?", (client_id,))])
        return rows[0][0] if rows else None

    # Pending sign-ins --------------------------------------------------------------------------

    async def put_request(self, request_id: str, client_id: str, params: str, expires_at: int) -> None:
        sql = "INSERT INTO requests (id, client_id, params, expires_at) VALUES (?, ?, ?, ?)"
        await self._run(
            [
                ("DELETE FROM requests WHERE expires_at < ?", (_now(),)),
                (sql, (request_id, client_id, params, expires_at)),
            ]
        )

    async def pending(self, client_id: str) -> int:
        """How many sign-ins a client has started that are neither finished nor expired."""
        sql = "SELECT COUNT(*) FROM requests WHERE client_id = ? AND expires_at >= ?"
        rows = await self._run([(sql, (client_id, _now()))])
        return int(rows[0][0])

    async def get_request(self, request_id: str) -> Pending | None:
        """A pending sign-in that has not expired."""
        sql = "SELECT client_id, params, person, sealed_token, consent FROM requests WHERE id = ? AND expires_at >= ?"
        rows = await self._run([(sql, (request_id, _now()))])
        if not rows:
            return None
        client_id, params, person, sealed, consent = rows[0]
        return Pending(client_id, params, Person.from_json(person) if person else None, sealed, consent)

    async def set_request_person(self, request_id: str, person: Person, sealed_token: str, consent: str) -> None:
        sql = "UPDATE requests SET person = ?, sealed_token = ?, consent = ? WHERE id = ?"
        await self._run([(sql, (person.to_json(), sealed_token, consent, request_id))])

    async def take_request(self, request_id: str) -> bool:
        """End a pending sign-in; whether it was still there (a second submit of the same page finds nothing)."""
        rows = await self._run([("DELETE FROM requests WHERE id = ? RETURNING id", (request_id,))])
        return bool(rows)

    # Grants and their secrets ------------------------------------------------------------------

    async def add_grant(self, grant: Grant, secrets: Sequence[tuple[str, str, int | None, str | None]]) -> None:
        """Store a grant with its first secrets: (digest, kind, expires_at, data)."""
        p = grant.person
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO grants (id, kind, client_id, label, user_id, user_email, user_name, organization_id,"
                " sealed_token, scopes, resource, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.id,
                    grant.kind,
                    grant.client_id,
                    grant.label,
                    p.user_id,
                    p.email,
                    p.name,
                    p.organization_id,
                    grant.sealed_token,
                    json.dumps(grant.scopes),
                    grant.resource,
                    grant.created_at,
                ),
            ),
            *(self._insert_secret(grant.id, *secret) for secret in secrets),
        ]
        await self._run(statements)

    def _tag(self, digest: str, grant_id: str, expires_at: int | None) -> str | None:
        return self.tags(digest, grant_id, expires_at)[0] if self.tags else None

    def _insert_secret(
        self, grant_id: str, digest: str, kind: str, expires_at: int | None, data: str | None
    ) -> tuple[str, Sequence[Any]]:
        sql = "INSERT INTO secrets (digest, kind, grant_id, expires_at, data, tag) VALUES (?, ?, ?, ?, ?, ?)"
        return sql, (digest, kind, grant_id, expires_at, data, self._tag(digest, grant_id, expires_at))

    async def add_secrets(self, grant_id: str, secrets: Sequence[tuple[str, str, int | None, str | None]]) -> None:
        """New secrets for a grant; expired ones of every grant are swept out on the way."""
        sweep: Statement = ("DELETE FROM secrets WHERE expires_at < ?", (_now(),))
        await self._run([sweep, *(self._insert_secret(grant_id, *secret) for secret in secrets)])

    async def find(self, digests: Sequence[str], kind: str) -> Found | None:
        """The live grant behind a secret (any of its digests), with the secret's expiry, data and stored digest;
        None if unknown, expired or revoked."""
        marks = ", ".join("?" * len(digests))
        sql = (
            f"SELECT {_GRANT_COLUMNS}, s.expires_at, s.data, s.digest, s.tag"
            " FROM secrets s JOIN grants g ON g.id = s.grant_id"
            f" WHERE s.digest IN ({marks}) AND s.kind = ? AND g.revoked_at IS NULL"
            " AND (s.expires_at IS NULL OR s.expires_at >= ?)"
        )
        rows = await self._run([(sql, (*digests, kind, _now()))])
        for row in rows:
            found = Found(_grant(row), row[13], row[14], row[15])
            if self._bound(found, row[16]):
                return found
        return None

    def _bound(self, found: Found, tag: str | None) -> bool:
        """Whether a row is what the server wrote: its tag matches its digest, grant and expiry under some key."""
        if not self.tags or not tag:
            return False
        return any(hmac.compare_digest(tag, t) for t in self.tags(found.digest, found.grant.id, found.expires_at))

    async def rekey(self, found: Found, new: str) -> None:
        """Store a secret under its digest (and tag) with the first key (after a rotation)."""
        tag = self._tag(new, found.grant.id, found.expires_at)
        await self._run([("UPDATE secrets SET digest = ?, tag = ? WHERE digest = ?", (new, tag, found.digest))])

    async def take(self, digest: str, kind: str) -> bool:
        """Use up a one-time secret (a code); False if another request used it first."""
        rows = await self._run([("DELETE FROM secrets WHERE digest = ? AND kind = ? RETURNING digest", (digest, kind))])
        return bool(rows)

    async def spend(self, digest: str) -> bool:
        """Use up a refresh token, keeping it as "spent" so a replay is recognised; False if it was used first."""
        sql = "UPDATE secrets SET kind = 'spent' WHERE digest = ? AND kind = 'refresh' RETURNING digest"
        return bool(await self._run([(sql, (digest,))]))

    async def spent_by(self, digests: Sequence[str]) -> str | None:
        """The grant of a refresh token that was already used (any of its digests), if it is one."""
        marks = ", ".join("?" * len(digests))
        sql = f"SELECT grant_id FROM secrets WHERE digest IN ({marks}) AND kind = 'spent'"
        rows = await self._run([(sql, tuple(digests))])
        return rows[0][0] if rows else None

    async def revoke(self, grant_id: str) -> bool:
        """Revoke a grant, forget its secrets and delete its sealed Missive token; whether it was live."""
        now = _now()
        rows = await self._run(
            [
                ("DELETE FROM secrets WHERE grant_id = ?", (grant_id,)),
                (
                    "UPDATE grants SET revoked_at = ?, sealed_token = '' WHERE id = ? AND revoked_at IS NULL"
                    " RETURNING id",
                    (now, grant_id),
                ),
            ]
        )
        return bool(rows)

    async def grants(self, kind: str | None = None) -> list[Grant]:
        """Every live grant (of one kind), oldest first."""
        where = "g.revoked_at IS NULL" + (" AND g.kind = ?" if kind else "")
        rows = await self._run(
            [
                (
                    f"SELECT {_GRANT_COLUMNS} FROM grants g WHERE {where} ORDER BY g.created_at, g.id",
                    (kind,) if kind else (),
                )
            ]
        )
        return [_grant(row) for row in rows]

    async def all_sealed(self) -> list[tuple[str, str]]:
        """(grant id, sealed token) of every live grant: what a key rotation re-seals (revoked ones hold none)."""
        sql = "SELECT id, sealed_token FROM grants WHERE revoked_at IS NULL"
        return [(r[0], r[1]) for r in await self._run([(sql, ())])]

    async def reseal(self, changes: Sequence[tuple[str, str]]) -> None:
        await self._run([("UPDATE grants SET sealed_token = ? WHERE id = ?", (sealed, gid)) for gid, sealed in changes])


def _now() -> int:
    return int(time.time())


# Backends ----------------------------------------------------------------------------------------


class SQLite:
    """A SQLite file, used from worker threads one statement batch at a time (WAL, so readers do not block)."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _run(self, statements: Sequence[Statement]) -> list[Row]:
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                rows: list[Row] = []
                for sql, params, *guard in statements:
                    cursor.execute(sql, tuple(params))
                    rows = [tuple(r) for r in cursor.fetchall()]
                    if guard and not guard[0](rows):
                        break
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
            return rows

    async def run(self, statements: Sequence[Statement]) -> list[Row]:
        return await anyio.to_thread.run_sync(self._run, statements)

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class PostgreSQL:
    """A PostgreSQL database shared by replicas, through a few psycopg connections opened on demand."""

    dialect = "postgresql"

    def __init__(self, url: str, *, size: int = 4) -> None:
        self._url = url
        self._idle: list[Any] = []
        self._slots = anyio.Semaphore(size)

    async def run(self, statements: Sequence[Statement]) -> list[Row]:
        import psycopg

        async with self._slots:
            conn = self._idle.pop() if self._idle else await psycopg.AsyncConnection.connect(self._url)
            try:
                rows: list[Row] = []
                async with conn.transaction():
                    for sql, params, *guard in statements:
                        # Our own constant SQL (psycopg's types want a literal string to keep out injection).
                        query = sql.replace("?", "%s")
                        cursor = await conn.execute(query, tuple(params))  # pyright: ignore[reportArgumentType]
                        rows = [tuple(r) for r in await cursor.fetchall()] if cursor.description else []
                        if guard and not guard[0](rows):
                            break
            except BaseException:
                await conn.close()
                raise
            self._idle.append(conn)
            return rows

    async def aclose(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def open_database(url: str) -> Database:
    """The database a MISSIVE_MCP_DATABASE_URL names: postgresql://... or a SQLite path (or sqlite:///path)."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgreSQL(url)
    return SQLite(url.removeprefix("sqlite://") if url.startswith("sqlite:///") else url)
