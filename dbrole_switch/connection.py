"""Connecting to PostgreSQL for the CLI commands, with one-line errors.

The connection target is resolved the way psql users expect: an explicit URL, then
``DATABASE_URL``, then whatever libpq's ``PG*`` variables say.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg import conninfo
from psycopg.rows import TupleRow

from dbrole_switch.errors import ConnectionFailed, UsageError, libpq_reason

APPLICATION_NAME = "dbrole-switch"


def resolve_database_url(option: str | None) -> str:
    """Return the connection string to use: *option*, else ``DATABASE_URL``.

    An empty string means "let libpq read ``PGHOST``, ``PGUSER`` and friends".
    """
    if option:
        return option

    return os.environ.get("DATABASE_URL", "")


def parse(url: str) -> dict[str, str]:
    """Split *url* (a URL or a ``key=value`` string) into libpq parameters."""
    try:
        return conninfo.conninfo_to_dict(url)  # type: ignore[return-value]
    except psycopg.ProgrammingError:
        raise UsageError(
            "the database URL cannot be parsed; expected "
            "postgresql://USER@HOST:PORT/DBNAME"
        ) from None


def describe(url: str) -> str:
    """Return ``user@host:port/dbname`` for *url*, never its password."""
    params = parse(url)
    user = params.get("user") or os.environ.get("PGUSER") or "(default user)"
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return f"{user}@{host}:{port}/{dbname}"


def without_password(url: str) -> str:
    """Return *url* as a ``postgresql://`` URL with any password removed."""
    params = parse(url)
    params.pop("password", None)
    return make_url(params)


def make_url(params: dict[str, Any]) -> str:
    """Build a ``postgresql://`` URL from libpq parameters, quoting each part."""
    from urllib.parse import quote, urlencode

    params = dict(params)
    user = params.pop("user", None)
    password = params.pop("password", None)
    host = params.pop("host", None) or ""
    port = params.pop("port", None)
    dbname = params.pop("dbname", None) or ""
    netloc = ""
    if user:
        netloc = quote(str(user), safe="")
        if password:
            netloc += ":" + quote(str(password), safe="")
        netloc += "@"
    if host.startswith("/"):
        params["host"] = host
        host = ""
    netloc += host
    if port:
        netloc += f":{port}"
    query = urlencode({key: str(value) for key, value in params.items()})
    return f"postgresql://{netloc}/{quote(dbname, safe='')}" + (
        f"?{query}" if query else ""
    )


def connect(
    url: str,
    *,
    password: str | None = None,
    user: str | None = None,
    dbname: str | None = None,
    autocommit: bool = False,
    application_name: str = APPLICATION_NAME,
    connect_timeout: int = 10,
) -> psycopg.Connection[TupleRow]:
    """Open a psycopg connection to *url*, overriding *user*, *password*, *dbname*.

    Failures become :class:`ConnectionFailed` with one line naming the target,
    not the password::

        with connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("SELECT 1")
    """
    overrides: dict[str, Any] = {
        "application_name": application_name,
        "connect_timeout": connect_timeout,
    }
    if password is not None:
        overrides["password"] = password
    if user is not None:
        overrides["user"] = user
    if dbname is not None:
        overrides["dbname"] = dbname
    try:
        target = conninfo.make_conninfo(url, **overrides)
    except psycopg.ProgrammingError:
        raise UsageError(
            "the database URL cannot be parsed; expected "
            "postgresql://USER@HOST:PORT/DBNAME"
        ) from None

    where = describe(target)
    try:
        return psycopg.connect(target, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = libpq_reason(str(exc))
        raise ConnectionFailed(f"cannot connect as {where}: {reason}") from None


def scram_verifier(conn: psycopg.Connection[Any], role: str, password: str) -> str:
    """Return the SCRAM-SHA-256 verifier of *password* for *role*.

    Computed by libpq on the client, so the plain text never reaches the server.
    The algorithm is named explicitly: otherwise libpq asks the server for its
    ``password_encryption`` setting, which may still be ``md5``.
    """
    verifier = conn.pgconn.encrypt_password(
        password.encode(), role.encode(), b"scram-sha-256"
    )
    return verifier.decode("ascii")
