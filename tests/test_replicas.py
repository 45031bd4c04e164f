"""Two replicas of the team server sharing a real PostgreSQL and a real Redis, behind a round-robin on loopback."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import anyio
import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from missive_mcp.auth.store import MIGRATIONS, PostgreSQL, Store
from missive_mcp.http import create_http_app
from missive_mcp.sandbox import DEMO_TOKEN, DEMO_USER_ID, FakeMissive
from missive_mcp.server import create_server

from .services import free_port, serve
from .test_auth import HEADERS, JONAS_ID, JONAS_TOKEN, OAuthClient, team_settings


class RoundRobin:
    """The smallest load balancer: each request to the next replica, in turn, nothing sticky."""

    def __init__(self, replicas: list[str]) -> None:
        self.next = itertools.cycle(replicas)
        self.served: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        target = next(self.next)
        self.served.append(target)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in ("host", "content-length")]
        async with httpx2.AsyncClient(timeout=30) as http:
            answer = await http.request(
                request.method,
                target + request.url.path,
                params=request.url.query,
                headers=headers,
                content=await request.body(),
            )
        drop = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in drop}
        await Response(answer.content, answer.status_code, kept)(scope, receive, send)


@contextmanager
def replicas(fake_url: str, fake: FakeMissive, database: str, redis: str) -> Iterator[tuple[str, list[str]]]:
    """(the balancer's origin, the replicas' origins)."""
    proxy_port = free_port()
    with ExitStack() as stack:
        origins: list[str] = []
        for _ in range(2):
            port = free_port()
            settings = team_settings(
                fake, port, database, public_url=f"http://127.0.0.1:{proxy_port}", redis_url=redis, base_url=fake_url
            )
            app = create_http_app(create_server(settings), settings)
            origins.append(stack.enter_context(serve(app, port)))
        balancer = stack.enter_context(serve(RoundRobin(origins), proxy_port))
        yield balancer, origins


@pytest.fixture
def fake() -> FakeMissive:
    fake = FakeMissive(report_delay=0.0, latency=0.01)
    fake.tokens[JONAS_TOKEN] = JONAS_ID
    return fake


def test_a_person_signed_in_through_one_replica_is_served_by_the_other(
    fake: FakeMissive, postgres_url: str, redis_url: str
) -> None:
    with fake.serve() as fake_url, replicas(fake_url, fake, postgres_url, redis_url) as (balancer, (one, two)):
        maya, jonas = OAuthClient(balancer), OAuthClient(balancer)
        maya.sign_in(DEMO_TOKEN)  # its steps alternate between the replicas
        jonas.sign_in(JONAS_TOKEN)
        assert maya.me(one) == maya.me(two) == DEMO_USER_ID
        assert jonas.me(one) == jonas.me(two) == JONAS_ID
        revoked = maya.http.post(f"{two}/revoke", data={"token": maya.refresh, "client_id": maya.client_id})
        assert revoked.status_code == 200
        assert maya.call("list_users", one).status_code == 401  # revoked on two, refused by one at once
        assert jonas.me(one) == JONAS_ID


def test_sixty_calls_at_once_through_both_replicas_keep_five_in_flight_and_draw_no_429(
    fake: FakeMissive, postgres_url: str, redis_url: str
) -> None:
    with fake.serve() as fake_url, replicas(fake_url, fake, postgres_url, redis_url) as (balancer, _):
        maya = OAuthClient(balancer)
        maya.sign_in(DEMO_TOKEN)
        fake.requests.clear()
        fake.max_in_flight = 0
        statuses: list[int] = []
        errors: list[str] = []

        async def one(http: httpx2.AsyncClient, index: int) -> None:
            body = {"jsonrpc": "2.0", "id": index, "method": "tools/call", "params": {"name": "list_users"}}
            body["params"]["arguments"] = {}  # type: ignore[index]
            answer = await http.post(
                f"{balancer}/mcp", json=body, headers=HEADERS | {"Authorization": f"Bearer {maya.access}"}
            )
            statuses.append(answer.status_code)
            if answer.status_code == 200 and answer.json()["result"].get("isError"):
                errors.append(json.dumps(answer.json()["result"]["content"]))

        async def burst() -> None:
            limits = httpx2.Limits(max_connections=100)
            with anyio.fail_after(60):
                async with httpx2.AsyncClient(timeout=60, limits=limits) as http, anyio.create_task_group() as group:
                    for index in range(60):
                        group.start_soon(one, http, index)

        anyio.run(burst)
        assert statuses == [200] * 60 and errors == []
        users_calls = [r for r in fake.requests if r.path == "/v1/users"]
        assert len(users_calls) == 60
        assert {r.headers["authorization"] for r in users_calls} == {f"Bearer {DEMO_TOKEN}"}
        assert fake.rate_limited == 0
        assert 2 <= fake.max_in_flight <= 5, fake.max_in_flight


def test_the_postgresql_schema_is_created_once_by_replicas_starting_together(postgres_url: str) -> None:
    async def start_together() -> list[int]:
        stores = [Store(PostgreSQL(postgres_url)) for _ in range(4)]
        versions: list[int] = []

        async def migrate(store: Store) -> None:
            versions.append(await store.migrate())

        async with anyio.create_task_group() as group:
            for store in stores:
                group.start_soon(migrate, store)
        rows = await stores[0].db.run([("SELECT version FROM schema_version", ())])
        for store in stores:
            await store.aclose()
        return [*versions, *(row[0] for row in rows)]

    assert anyio.run(start_together) == [len(MIGRATIONS)] * 5
