"""``provision()`` against real servers: what the role can and cannot do afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import Server, TestDatabase
from psycopg import errors, sql

from dbrole_switch.errors import ConnectionFailed, UsageError
from dbrole_switch.provision import (
    PasswordRequired,
    ProvisionFailed,
    RoleNotReadOnly,
    provision,
)

PASSWORD = "correct-horse-battery-staple"  # noqa: S105

SHOP = """
CREATE TABLE public.items (id bigserial PRIMARY KEY, name text);
INSERT INTO public.items (name) VALUES ('apple'), ('pear');
CREATE VIEW public.item_names AS SELECT name FROM public.items;
CREATE MATERIALIZED VIEW public.item_count AS SELECT count(*) AS n FROM public.items;
CREATE TABLE public.events (at date, what text) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO public.events VALUES ('2026-05-01', 'opened');
CREATE SEQUENCE public.counter;
SELECT nextval('public.counter');
CREATE SCHEMA "Odd ""schema"";";
CREATE TABLE "Odd ""schema"";".t (x int);
INSERT INTO "Odd ""schema"";".t VALUES (1);
"""

#: Every way a shell user might try to change data, schema or privileges.
WRITES = {
    "insert": "INSERT INTO items (name) VALUES ('x')",
    "update": "UPDATE items SET name = 'x'",
    "delete": "DELETE FROM items",
    "truncate": "TRUNCATE items",
    "insert-partition": "INSERT INTO events_2026 VALUES ('2026-06-01', 'x')",
    "insert-odd-schema": 'INSERT INTO "Odd ""schema"";".t VALUES (2)',
    "select-for-update": "SELECT * FROM items FOR UPDATE",
    "create-table": "CREATE TABLE public.intruder (x int)",
    "create-table-odd-schema": 'CREATE TABLE "Odd ""schema"";".intruder (x int)',
    "create-schema": "CREATE SCHEMA intruder",
    "create-function": "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql",
    "create-view": "CREATE VIEW public.intruder AS SELECT 1",
    "create-temp-table": "CREATE TEMP TABLE scratch (x int)",
    "alter-table": "ALTER TABLE items ADD COLUMN evil text",
    "create-index": "CREATE INDEX ON items (name)",
    "drop-table": "DROP TABLE items",
    "drop-view": "DROP VIEW item_names",
    "refresh-matview": "REFRESH MATERIALIZED VIEW item_count",
    "comment": "COMMENT ON TABLE items IS 'mine now'",
    "nextval": "SELECT nextval('counter')",
    "setval": "SELECT setval('counter', 100)",
    "lock-exclusive": "LOCK TABLE items IN EXCLUSIVE MODE",
    "lock-access-exclusive": "LOCK TABLE items IN ACCESS EXCLUSIVE MODE",
    "create-role": "CREATE ROLE intruder",
    "copy-from": "COPY items (name) FROM STDIN",
}

#: GRANT and REVOKE without a grant option are not errors: the server warns with
#: SQLSTATE 01007 ("privilege not granted") and changes nothing.
PRIVILEGE_CHANGES = {
    "grant": "GRANT SELECT, INSERT ON items TO PUBLIC",
    "revoke": "REVOKE SELECT ON items FROM PUBLIC",
}


def catalog_snapshot(db: TestDatabase, role: str) -> list[tuple[Any, ...]]:
    """Everything provision, drop or rotate may touch, as comparable rows."""
    query = """
    SELECT 'role', concat_ws(' ', r.rolname, r.rolsuper, r.rolinherit,
           r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
           r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil, r.rolpassword)
    FROM pg_authid AS r WHERE r.rolname = %(role)s
    UNION ALL
    SELECT 'setting', concat_ws(' ', s.setdatabase, s.setconfig::text)
    FROM pg_db_role_setting AS s JOIN pg_roles AS r ON r.oid = s.setrole
    WHERE r.rolname = %(role)s
    UNION ALL
    SELECT 'member', concat_ws(' ', m.roleid::regrole::text, m.member::regrole::text)
    FROM pg_auth_members AS m
    WHERE m.member::regrole::text = quote_ident(%(role)s)
    UNION ALL
    SELECT 'class', concat_ws(' ', c.oid::regclass::text, c.relacl::text)
    FROM pg_class AS c
    WHERE c.relnamespace::regnamespace::text NOT IN
          ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'column', concat_ws(' ', a.attrelid::regclass::text, a.attname,
                               a.attacl::text)
    FROM pg_attribute AS a WHERE a.attacl IS NOT NULL
    UNION ALL
    SELECT 'schema', concat_ws(' ', n.nspname, n.nspacl::text) FROM pg_namespace AS n
    UNION ALL
    SELECT 'default', concat_ws(' ', d.defaclrole::regrole::text,
                                d.defaclnamespace, d.defaclobjtype, d.defaclacl::text)
    FROM pg_default_acl AS d
    UNION ALL
    SELECT 'database', concat_ws(' ', d.datname, d.datacl::text)
    FROM pg_database AS d
    UNION ALL
    SELECT 'routine', concat_ws(' ', p.oid::regprocedure::text, p.proacl::text)
    FROM pg_proc AS p WHERE p.pronamespace <> 'pg_catalog'::regnamespace
      AND p.pronamespace <> 'information_schema'::regnamespace
    ORDER BY 1, 2
    """
    return [tuple(row) for row in db.execute(query, {"role": role})]


def role_connect(
    db: TestDatabase, role: str, password: str = PASSWORD, **kw: Any
) -> Any:
    return db.connect(db.url_for(role, password), **kw)


def attempt(conn: psycopg.Connection[Any], statement: str) -> str:
    """Run *statement* in a transaction that is always rolled back; its SQLSTATE.

    Returns ``"ok"`` when it succeeded, or ``"notice:<sqlstate>"`` for a warning.
    """
    notices: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        notices.append(diag.sqlstate or "")

    conn.add_notice_handler(collect)
    outcome = "ok"
    try:
        with conn.cursor() as cur:
            if statement.startswith("COPY") and "FROM STDIN" in statement:
                with cur.copy(statement) as copy:
                    copy.write_row(("smuggled",))
            else:
                cur.execute(statement)
    except psycopg.Error as exc:
        outcome = exc.sqlstate or "?"
    finally:
        conn.rollback()
        conn.remove_notice_handler(collect)
    warnings = [code for code in notices if code.startswith("01")]
    if outcome == "ok" and warnings:
        return "notice:" + warnings[0]
    return outcome


@contextlib.contextmanager
def shop_database(server: Server, setup: str = SHOP) -> Iterator[TestDatabase]:
    """A new database set up by *setup* (by default one of every kind of relation,
    owned by the superuser), dropped with its roles afterwards."""
    database = TestDatabase(server, f"t_{secrets.token_hex(5)}")
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name))
        )
    try:
        database.execute(setup)
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="module")
def shop(pg_server: Server) -> Iterator[TestDatabase]:
    """One shop for the tests that only add roles of their own and never harden.

    Creating a database is the slowest step of most tests, so these share one.
    """
    with shop_database(pg_server) as database:
        yield database


@pytest.fixture
def fresh_shop(pg_server: Server) -> Iterator[TestDatabase]:
    """A shop of its own, for tests that change what PUBLIC may do."""
    with shop_database(pg_server) as database:
        yield database


@pytest.fixture(scope="module")
def hardened(pg_server: Server) -> Iterator[tuple[TestDatabase, str]]:
    """A shop provisioned with --harden, and its read-only role."""
    with shop_database(pg_server) as database:
        role = database.role("ro")
        provision(database.url, role, password=PASSWORD, harden=True)
        yield database, role


@pytest.mark.parametrize("belt", ["on", "off"])
def test_every_write_is_refused(hardened: tuple[TestDatabase, str], belt: str) -> None:
    shop, hardened_role = hardened
    refused_codes = {"25006", "42501"} if belt == "on" else {"42501"}
    before = catalog_snapshot(shop, hardened_role)

    with role_connect(shop, hardened_role, autocommit=True) as conn:
        conn.execute(
            sql.SQL("SET default_transaction_read_only = {}").format(sql.Literal(belt))
        )
        conn.autocommit = False
        outcomes = {
            name: attempt(conn, statement) for name, statement in WRITES.items()
        }
        changes = {name: attempt(conn, s) for name, s in PRIVILEGE_CHANGES.items()}

    allowed = {
        name: code for name, code in outcomes.items() if code not in refused_codes
    }
    assert allowed == {}
    if belt == "on":
        assert set(changes.values()) == {errors.ReadOnlySqlTransaction.sqlstate}
    else:
        assert changes == {"grant": "notice:01007", "revoke": "notice:01006"}
    assert catalog_snapshot(shop, hardened_role) == before
    assert shop.execute("SELECT count(*) FROM items") == [(2,)]
    assert shop.execute("SELECT last_value FROM counter") == [(1,)]


def test_every_read_a_shell_user_needs_works(
    hardened: tuple[TestDatabase, str],
) -> None:
    shop, hardened_role = hardened
    with role_connect(shop, hardened_role, autocommit=False) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {name}").fetchone()
            for name in (
                "items",
                "item_names",
                "item_count",
                "events",
                "events_2026",
                '"Odd ""schema"";".t',
            )
        ]
        last_value = conn.execute("SELECT last_value FROM counter").fetchone()
        with conn.cursor().copy("COPY items (name) TO STDOUT") as copy:
            copied = b"".join(bytes(chunk) for chunk in copy)
        with conn.cursor(name="browse") as cur:
            cur.execute("SELECT name FROM items ORDER BY id")
            fetched = cur.fetchmany(10)
        belt = conn.execute("SHOW default_transaction_read_only").fetchone()

    assert counts == [(2,), (2,), (1,), (1,), (1,), (1,)]
    assert last_value == (1,)
    assert copied == b"apple\npear\n"
    assert fetched == [("apple",), ("pear",)]
    assert belt == ("on",)


def test_new_role_has_login_and_nothing_else(shop: TestDatabase) -> None:
    role = shop.role("ro")

    result = provision(shop.url, role, password=PASSWORD)

    attributes = shop.execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
        " rolbypassrls, rolpassword LIKE 'SCRAM-SHA-256$%%' FROM pg_authid"
        " WHERE rolname = %s",
        [role],
    )
    memberships = shop.execute(
        "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole", [role]
    )
    assert attributes == [(True, False, False, False, False, False, True)]
    assert memberships == [(0,)]
    assert result.created and result.changed and result.password_changed
    assert result.schemas == ['Odd "schema";', "public"]
    assert {"create-role", "grant-select-tables", "default-privileges"} <= {
        change["action"] for change in result.changes
    }


def test_second_run_changes_nothing(fresh_shop: TestDatabase) -> None:
    role = fresh_shop.role("ro")
    provision(
        fresh_shop.url,
        role,
        password=PASSWORD,
        harden=True,
        connection_limit=5,
        valid_until="2099-01-01",
        statement_timeout="5min",
        idle_in_transaction_timeout="1min",
    )
    before = catalog_snapshot(fresh_shop, role)

    again = provision(
        fresh_shop.url,
        role,
        password=PASSWORD,
        harden=True,
        connection_limit=5,
        valid_until="2099-01-01",
        statement_timeout="5min",
        idle_in_transaction_timeout="1min",
    )

    assert not again.changed
    assert again.statements == []
    assert not again.created and not again.password_changed
    assert catalog_snapshot(fresh_shop, role) == before


def test_dry_run_prints_the_exact_statements_and_changes_nothing(
    fresh_shop: TestDatabase,
) -> None:
    role = fresh_shop.role("ro")
    before = catalog_snapshot(fresh_shop, role)

    planned = provision(
        fresh_shop.url, role, password=PASSWORD, harden=True, dry_run=True
    )
    after_dry_run = catalog_snapshot(fresh_shop, role)
    done = provision(fresh_shop.url, role, password=PASSWORD, harden=True)

    assert after_dry_run == before
    assert planned.dry_run and planned.changed
    assert planned.statements == done.statements
    assert any("PASSWORD '********'" in s for s in planned.statements)
    assert not any(PASSWORD in s or "SCRAM-SHA-256$" in s for s in planned.statements)


def test_dry_run_of_a_new_role_needs_no_password(shop: TestDatabase) -> None:
    role = shop.role("ro")

    planned = provision(shop.url, role, dry_run=True)

    assert planned.statements[0].startswith(f'CREATE ROLE "{role}"')
    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_new_role_without_password_is_refused(shop: TestDatabase) -> None:
    role = shop.role("ro")

    with pytest.raises(PasswordRequired, match="--password-stdin"):
        provision(shop.url, role)

    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_existing_role_keeps_its_password(shop: TestDatabase) -> None:
    role = shop.role("ro")
    provision(shop.url, role, password=PASSWORD)

    result = provision(shop.url, role, statement_timeout="30s")

    assert not result.password_changed
    with role_connect(shop, role) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)


def test_belt_switched_off_for_this_database_only_is_put_back(
    shop: TestDatabase,
) -> None:
    role = shop.role("ro")
    provision(shop.url, role, password=PASSWORD)
    shop.execute(
        sql.SQL(
            "ALTER ROLE {} IN DATABASE {} SET default_transaction_read_only = off"
        ).format(sql.Identifier(role), sql.Identifier(shop.name))
    )

    result = provision(shop.url, role)

    with role_connect(shop, role) as conn:
        belt = conn.execute("SHOW default_transaction_read_only").fetchone()
    assert belt == ("on",)
    assert [change["action"] for change in result.changes] == ["reset-setting"]


def test_role_settings_are_applied(shop: TestDatabase) -> None:
    role = shop.role("ro")

    provision(
        shop.url,
        role,
        password=PASSWORD,
        connection_limit=3,
        valid_until="2099-12-31 00:00:00+00",
        statement_timeout="2min",
        idle_in_transaction_timeout="45s",
    )

    with role_connect(shop, role) as conn:
        settings = conn.execute(
            "SELECT current_setting('statement_timeout'),"
            " current_setting('idle_in_transaction_session_timeout')"
        ).fetchone()
    limits = shop.execute(
        "SELECT rolconnlimit, extract(year FROM rolvaliduntil AT TIME ZONE 'UTC')"
        " FROM pg_roles WHERE rolname = %s",
        [role],
    )
    assert settings == ("2min", "45s")
    assert limits == [(3, 2099)]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("valid_until", "next tuesday-ish", "--valid-until"),
        ("statement_timeout", "forever", "statement_timeout"),
    ],
)
def test_bad_role_setting_is_one_line_and_changes_nothing(
    shop: TestDatabase, option: str, value: str, message: str
) -> None:
    role = shop.role("ro")
    provision(shop.url, role, password=PASSWORD)
    before = catalog_snapshot(shop, role)

    with pytest.raises((UsageError, ProvisionFailed), match=message) as info:
        provision(shop.url, role, **{option: value})  # type: ignore[arg-type]

    assert "\n" not in str(info.value)
    assert catalog_snapshot(shop, role) == before


def test_public_create_gap_is_reported_without_harden(db: TestDatabase) -> None:
    # Every database created before PostgreSQL 15 let PUBLIC create in public.
    db.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    role = db.role("ro")

    result = provision(db.url, role, password=PASSWORD)

    codes = {finding.code: finding for finding in result.warnings}
    assert "public-create" in codes
    assert "--harden" in codes["public-create"].fix
    assert "REVOKE CREATE ON SCHEMA" in codes["public-create"].fix


def test_harden_closes_the_public_create_gap(db: TestDatabase) -> None:
    db.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    role = db.role("ro")

    result = provision(db.url, role, password=PASSWORD, harden=True)

    with role_connect(db, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.autocommit = False
        outcome = attempt(conn, "CREATE TABLE public.sneaky (x int)")
    assert outcome == errors.InsufficientPrivilege.sqlstate
    assert "public-create" not in {finding.code for finding in result.warnings}


def test_temporary_tables_are_allowed_without_harden_and_reported(
    shop: TestDatabase,
) -> None:
    # Documented choice: TEMP through PUBLIC changes no persistent data, so it is a
    # warning; --harden revokes it.
    role = shop.role("ro")

    result = provision(shop.url, role, password=PASSWORD)

    with role_connect(shop, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.autocommit = False
        outcome = attempt(conn, "CREATE TEMP TABLE scratch (x int)")
    assert outcome == "ok"
    assert "public-temp" in {finding.code for finding in result.warnings}


def test_harden_leaves_create_on_public_to_an_owner_that_relied_on_public(
    db: TestDatabase,
) -> None:
    # As in a database made before PostgreSQL 15: the app role creates its tables
    # in public through PUBLIC's CREATE, without owning the schema.
    app = db.role("app", password=PASSWORD)
    db.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    with db.connect(db.url_for(app, PASSWORD)) as conn:
        conn.execute("CREATE TABLE public.first (x int)")
    role = db.role("ro")

    provision(db.url, role, password=PASSWORD, harden=True)

    with db.connect(db.url_for(app, PASSWORD)) as conn:
        conn.execute("CREATE TABLE public.next_migration (x int)")
    public_create = db.execute(
        "SELECT count(*) FROM pg_namespace, aclexplode(nspacl) AS a "
        "WHERE nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE'"
    )
    reader_create = db.execute(
        "SELECT has_schema_privilege(%s, 'public', 'CREATE')", [role]
    )
    assert public_create == [(0,)]
    assert reader_create == [(False,)]


def test_harden_takes_security_definer_functions_from_public(db: TestDatabase) -> None:
    app = db.role("app", password=PASSWORD)
    db.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(db.name), sql.Identifier(app)
        )
    )
    db.execute(
        sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(app))
    )
    with db.connect(db.url_for(app, PASSWORD)) as conn:
        conn.execute(
            "CREATE FUNCTION public.bump(n int, tags text[]) RETURNS int"
            " LANGUAGE sql SECURITY DEFINER AS 'SELECT n + 1'"
        )
        conn.execute("CREATE TABLE public.t (x int)")
    role = db.role("ro")

    result = provision(db.url, role, password=PASSWORD, harden=True)

    with role_connect(db, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.autocommit = False
        execute = attempt(conn, "SELECT public.bump(1, '{}')")
        temp = attempt(conn, "CREATE TEMP TABLE scratch (x int)")
    with db.connect(db.url_for(app, PASSWORD)) as conn:
        assert conn.execute("SELECT public.bump(1, '{}')").fetchone() == (2,)
        conn.execute("CREATE TEMP TABLE scratch (x int)")
        conn.execute(
            "CREATE FUNCTION public.later() RETURNS int LANGUAGE sql AS 'SELECT 1'"
        )
    later = db.execute(
        "SELECT has_function_privilege(%s, 'public.later()', 'EXECUTE')", [role]
    )
    assert execute == errors.InsufficientPrivilege.sqlstate
    assert temp == errors.InsufficientPrivilege.sqlstate
    assert later == [(False,)]
    assert "harden-execute" in {change["action"] for change in result.changes}


def test_owner_objects_created_later_are_readable(db: TestDatabase) -> None:
    app = db.role("app", password=PASSWORD)
    db.execute(
        sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(app))
    )
    role = db.role("ro")
    provision(db.url, role, password=PASSWORD, owners=[app])

    with db.connect(db.url_for(app, PASSWORD)) as conn:
        conn.execute("CREATE TABLE public.later (x int)")
        conn.execute("INSERT INTO public.later VALUES (7)")
        conn.execute("CREATE SEQUENCE public.later_seq")
        conn.execute("SELECT nextval('public.later_seq')")

    with role_connect(db, role) as conn:
        row = conn.execute("SELECT x FROM public.later").fetchone()
        last = conn.execute("SELECT last_value FROM public.later_seq").fetchone()
    assert row == (7,)
    assert last == (1,)


def test_two_owners_each_create_a_readable_table(db: TestDatabase) -> None:
    app = db.role("app", password=PASSWORD)
    migrator = db.role('Migrate "as"; me', password=PASSWORD)
    for owner in (app, migrator):
        db.execute(
            sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(owner))
        )
    role = db.role("ro")

    result = provision(db.url, role, password=PASSWORD, owners=[app, migrator])

    for owner in (app, migrator):
        with db.connect(db.url_for(owner, PASSWORD)) as conn:
            conn.execute(
                sql.SQL("CREATE TABLE {} (x int)").format(sql.Identifier(f"t_{owner}"))
            )
    with role_connect(db, role) as conn:
        for owner in (app, migrator):
            conn.execute(
                sql.SQL("SELECT * FROM {}").format(sql.Identifier(f"t_{owner}"))
            )
    assert result.owners == [app, migrator]


def test_member_login_of_an_owner_is_reported(db: TestDatabase) -> None:
    app = db.role("app", attrs="NOLOGIN")
    migrator = db.role("migrate", password=PASSWORD)
    db.execute(
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(app), sql.Identifier(migrator))
    )
    role = db.role("ro")

    result = provision(db.url, role, password=PASSWORD, owners=[app])

    findings = [f for f in result.warnings if f.code == "member-creates-own-objects"]
    assert len(findings) == 1
    assert migrator in findings[0].message and f"SET ROLE {app}" in findings[0].fix


def test_non_superuser_admin_with_createrole(db: TestDatabase) -> None:
    admin = db.role("admin", password=PASSWORD, attrs="CREATEROLE")
    db.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(db.name), sql.Identifier(admin)
        )
    )
    db.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(admin)))
    admin_url = db.url_for(admin, PASSWORD)
    with db.connect(admin_url) as conn:
        conn.execute("CREATE TABLE public.orders (id serial PRIMARY KEY, total int)")
        conn.execute("INSERT INTO public.orders (total) VALUES (10)")
    role = db.role("ro")

    result = provision(admin_url, role, password=PASSWORD, harden=True)
    again = provision(admin_url, role, password=PASSWORD, harden=True)
    with db.connect(admin_url) as conn:
        conn.execute("CREATE TABLE public.later (x int)")

    with role_connect(db, role) as conn:
        assert conn.execute("SELECT total FROM orders").fetchone() == (10,)
        assert conn.execute("SELECT count(*) FROM later").fetchone() == (0,)
    assert result.created and result.owners == [admin]
    # Without superuser the stored verifier cannot be read, so the same password
    # is set again; nothing else changes.
    assert [c["action"] for c in again.changes] == ["set-password"]


def test_admin_without_createrole_is_refused(db: TestDatabase) -> None:
    admin = db.role("admin", password=PASSWORD)
    db.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(db.name), sql.Identifier(admin)
        )
    )
    role = db.role("ro")

    with pytest.raises(ProvisionFailed, match="CREATEROLE") as info:
        provision(db.url_for(admin, PASSWORD), role, password=PASSWORD)

    assert "\n" not in str(info.value)
    assert db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_admin_that_cannot_grant_on_tables_is_refused_before_anything(
    db: TestDatabase,
) -> None:
    admin = db.role("admin", password=PASSWORD, attrs="CREATEROLE")
    db.execute("CREATE TABLE public.secret_owned_by_superuser (x int)")
    db.execute(
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(admin))
    )
    role = db.role("ro")

    with pytest.raises(ProvisionFailed, match="cannot grant SELECT") as info:
        provision(db.url_for(admin, PASSWORD), role, password=PASSWORD)

    assert "nothing was changed" in str(info.value)
    assert db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_existing_superuser_is_refused_unless_forced(db: TestDatabase) -> None:
    role = db.role("ro", password=PASSWORD, attrs="SUPERUSER")

    with pytest.raises(RoleNotReadOnly, match="--force") as info:
        provision(db.url, role)
    forced = provision(db.url, role, force=True)

    assert "SUPERUSER" in str(info.value)
    assert db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]) == [
        (False,)
    ]
    assert "set-attributes" in {c["action"] for c in forced.changes}


def test_existing_writer_is_refused_unless_forced(shop: TestDatabase) -> None:
    role = shop.role("ro", password=PASSWORD)
    shop.execute(
        sql.SQL("GRANT INSERT, UPDATE ON items TO {}").format(sql.Identifier(role))
    )
    shop.execute(
        sql.SQL("GRANT UPDATE (name) ON items TO {}").format(sql.Identifier(role))
    )
    shop.execute(
        sql.SQL("GRANT USAGE ON SEQUENCE counter TO {}").format(sql.Identifier(role))
    )
    before = catalog_snapshot(shop, role)

    with pytest.raises(RoleNotReadOnly, match="--force"):
        provision(shop.url, role)
    unchanged = catalog_snapshot(shop, role)
    provision(shop.url, role, force=True)

    with role_connect(shop, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.autocommit = False
        insert = attempt(conn, "INSERT INTO items (name) VALUES ('x')")
        update = attempt(conn, "UPDATE items SET name = 'x'")
        nextval = attempt(conn, "SELECT nextval('counter')")
        read = attempt(conn, "SELECT count(*) FROM items")
    assert unchanged == before
    assert (insert, update, nextval, read) == ("42501", "42501", "42501", "ok")


def test_role_that_owns_objects_is_refused_even_forced(db: TestDatabase) -> None:
    role = db.role("ro", password=PASSWORD)
    db.execute(sql.SQL("CREATE TABLE mine (x int)"))
    db.execute(sql.SQL("ALTER TABLE mine OWNER TO {}").format(sql.Identifier(role)))

    with pytest.raises(RoleNotReadOnly, match="REASSIGN OWNED"):
        provision(db.url, role, force=True)


@pytest.mark.parametrize(
    "name",
    [
        'ro"; DROP TABLE items; --',
        "Read Only",
        "lecture_seule_é_ü_日本",
        "UPPER_ro",
        "ro'quote\\back",
        "r" * 63,
    ],
)
def test_odd_role_names_are_created_exactly(shop: TestDatabase, name: str) -> None:
    shop.roles.append(name)

    provision(shop.url, name, password=PASSWORD)

    assert shop.execute("SELECT rolname FROM pg_roles WHERE rolname = %s", [name]) == [
        (name,)
    ]
    assert shop.execute("SELECT count(*) FROM items") == [(2,)]
    with role_connect(shop, name) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (2,)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("r" * 64, "64 bytes"),
        ("é" * 32, "64 bytes"),
        ("pg_reader", "pg_"),
        ("public", "reserved"),
        ("CURRENT_USER", "reserved"),
        ("session_user", "reserved"),
        ("none", "reserved"),
        ("", "empty"),
        ("ro\nDROP TABLE items", "control"),
    ],
)
def test_unusable_role_names_are_refused(name: str, message: str) -> None:
    # Refused before connecting: the URL leads nowhere.
    with pytest.raises(UsageError, match=message) as info:
        provision("postgresql://nobody@127.0.0.1:1/none", name, password=PASSWORD)

    assert "\n" not in str(info.value)


def test_missing_schema_is_refused_and_nothing_is_done(shop: TestDatabase) -> None:
    role = shop.role("ro")

    with pytest.raises(UsageError, match="no schema named 'nope'") as info:
        provision(shop.url, role, password=PASSWORD, schemas=["public", "nope"])

    assert "public" in str(info.value)
    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_system_schema_is_refused(shop: TestDatabase) -> None:
    with pytest.raises(UsageError, match="system schema"):
        provision(shop.url, "app_ro", password=PASSWORD, schemas=["pg_catalog"])


def test_chosen_schemas_only(shop: TestDatabase) -> None:
    role = shop.role("ro")

    provision(shop.url, role, password=PASSWORD, schemas=['Odd "schema";'])

    with role_connect(shop, role) as conn:
        conn.execute('SELECT * FROM "Odd ""schema"";".t')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM public.items")


def test_missing_owner_is_refused_and_nothing_is_done(shop: TestDatabase) -> None:
    role = shop.role("ro")

    with pytest.raises(UsageError, match="--owner 'ghost'"):
        provision(shop.url, role, password=PASSWORD, owners=["ghost"])

    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_unreachable_server_is_one_line() -> None:
    with pytest.raises(ConnectionFailed) as info:
        provision(
            "postgresql://nobody@127.0.0.1:1/nowhere", "app_ro", password=PASSWORD
        )

    assert "\n" not in str(info.value)


def test_wrong_admin_password_is_one_line(
    pg_server: Server, needs_password_auth: None
) -> None:
    url = pg_server.url_for("postgres", "not-the-password")

    with pytest.raises(
        ConnectionFailed, match="password authentication failed"
    ) as info:
        provision(url, "app_ro", password=PASSWORD)

    assert "not-the-password" not in str(info.value)
    assert "\n" not in str(info.value)


def test_template_override_directory(shop: TestDatabase, tmp_path: Path) -> None:
    (tmp_path / "provision").mkdir()
    (tmp_path / "provision" / "create_role.sql").write_text(
        "-- Our policy: every read-only role may hold two connections at most.\n"
        "CREATE ROLE {role} WITH LOGIN CONNECTION LIMIT 2 PASSWORD {password}\n"
    )
    role = shop.role("ro")

    result = provision(shop.url, role, password=PASSWORD, templates=tmp_path)

    assert shop.execute(
        "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", [role]
    ) == [(2,)]
    assert "CONNECTION LIMIT 2" in result.statements[0]


def test_template_with_an_unknown_placeholder_is_one_line(
    shop: TestDatabase, tmp_path: Path
) -> None:
    (tmp_path / "provision").mkdir()
    (tmp_path / "provision" / "grant_usage.sql").write_text(
        "GRANT USAGE ON SCHEMA {schema} TO {reader}\n"
    )
    role = shop.role("ro")

    with pytest.raises(UsageError, match=r"grant_usage\.sql") as info:
        provision(shop.url, role, password=PASSWORD, templates=tmp_path)

    assert "role, schema" in str(info.value) and "\n" not in str(info.value)
    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_plain_password_never_reaches_the_server_log(
    pg_server: Any, shop: TestDatabase
) -> None:
    if pg_server.log_path is None:
        pytest.skip(f"{pg_server.name} has no server log we can read")
    role = shop.role("ro")
    secret = "plain-text-" + os.urandom(6).hex()

    provision(shop.url, role, password=secret)

    log_text = Path(pg_server.log_path).read_text(errors="replace")
    assert f'CREATE ROLE "{role}"' in log_text
    assert secret not in log_text


def test_json_document_has_stable_keys_and_no_secret(shop: TestDatabase) -> None:
    role = shop.role("ro")

    document = provision(shop.url, role, password=PASSWORD).to_json()

    assert sorted(document) == [
        "changed",
        "changes",
        "command",
        "created",
        "database",
        "dry_run",
        "owners",
        "password_changed",
        "read_only_url",
        "role",
        "schemas",
        "server_version",
        "statements",
        "warnings",
    ]
    text = repr(document)
    assert PASSWORD not in text and "SCRAM-SHA-256$" not in text


def test_concurrent_runs_end_in_one_consistent_state(fresh_shop: TestDatabase) -> None:
    role = fresh_shop.role("ro")
    results: list[Any] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        try:
            results.append(
                provision(fresh_shop.url, role, password=PASSWORD, harden=True)
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    state = catalog_snapshot(fresh_shop, role)
    again = provision(fresh_shop.url, role, password=PASSWORD, harden=True)

    assert failures == []
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert sum(r.changed for r in results) == 1
    assert not again.changed
    assert catalog_snapshot(fresh_shop, role) == state


KILLABLE = textwrap.dedent(
    """
    import sys
    from dbrole_switch.provision import provision
    provision(sys.argv[1], sys.argv[2], password=sys.argv[3])
    """
)


def _backend_waiting(db: TestDatabase) -> bool:
    rows = db.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = 'dbrole-switch' AND wait_event_type = 'Lock'"
    )
    return bool(rows[0][0])


def _no_backend_left(db: TestDatabase) -> bool:
    rows = db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbrole-switch'"
    )
    return bool(rows[0][0] == 0)


def _wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__name__}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("catalog", "waits_in"),
    [
        ("pg_authid", "CREATE ROLE"),
        ("pg_default_acl", "ALTER DEFAULT PRIVILEGES"),
    ],
)
def test_sigkill_mid_run_leaves_the_old_state(
    shop: TestDatabase, tmp_path: Path, catalog: str, waits_in: str
) -> None:
    role = shop.role("ro")
    before = catalog_snapshot(shop, role)
    script = tmp_path / "run.py"
    script.write_text(KILLABLE)

    # Holding a catalog makes the run wait at the first statement that writes it:
    # pg_authid at CREATE ROLE, before anything else; pg_default_acl at the first
    # ALTER DEFAULT PRIVILEGES, after the role and the GRANTs have been sent.
    with shop.connect(autocommit=False) as blocker:
        blocker.execute(
            sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(catalog))
        )
        proc = subprocess.Popen(
            [sys.executable, str(script), shop.url, role, PASSWORD],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(lambda: _backend_waiting(shop))
            waiting_in = shop.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE application_name = 'dbrole-switch'"
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        blocker.rollback()
    _wait_for(lambda: _no_backend_left(shop))

    assert waiting_in[0][0].startswith(waits_in)
    assert proc.returncode == -signal.SIGKILL
    assert catalog_snapshot(shop, role) == before
    assert provision(shop.url, role, password=PASSWORD).created


def test_run_killed_after_commit_leaves_the_new_state(
    shop: TestDatabase, tmp_path: Path
) -> None:
    role = shop.role("ro")
    script = tmp_path / "run.py"
    script.write_text(KILLABLE)

    proc = subprocess.run(
        [sys.executable, str(script), shop.url, role, PASSWORD], capture_output=True
    )
    done = catalog_snapshot(shop, role)
    again = provision(shop.url, role, password=PASSWORD)

    assert proc.returncode == 0, proc.stderr
    assert not again.changed
    assert catalog_snapshot(shop, role) == done


def test_the_package_ships_its_templates() -> None:
    from importlib import resources

    root = resources.files("dbrole_switch").joinpath("sql")
    names = {
        f"{folder}/{item.name}"
        for folder in ("provision", "drop", "harden")
        for item in root.joinpath(folder).iterdir()
    }

    assert "provision/create_role.sql" in names
    assert "harden/revoke_public_create.sql" in names
    assert "drop/drop_role.sql" in names


def _createrole_admin(db: TestDatabase) -> str:
    """A non-superuser admin with CREATEROLE that owns the database and public."""
    admin = db.role("admin", password=PASSWORD, attrs="CREATEROLE")
    db.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(db.name), sql.Identifier(admin)
        )
    )
    return admin


def test_createrole_admin_and_a_role_it_did_not_create(
    pg_server: Any, db: TestDatabase
) -> None:
    admin = _createrole_admin(db)
    role = db.role("ro", password=PASSWORD)
    before = catalog_snapshot(db, role)

    if pg_server.version >= 16:
        # PostgreSQL 16: CREATEROLE covers only roles the admin has ADMIN OPTION on.
        with pytest.raises(ProvisionFailed, match=r"(?i)ADMIN option") as info:
            provision(db.url_for(admin, PASSWORD), role)
        assert "\n" not in str(info.value)
        assert catalog_snapshot(db, role) == before
    else:
        result = provision(db.url_for(admin, PASSWORD), role)
        assert "set-setting" in {change["action"] for change in result.changes}


def test_harden_on_a_schema_the_admin_does_not_own_is_refused(
    db: TestDatabase,
) -> None:
    # As in a database created before PostgreSQL 15: public belongs to the
    # bootstrap superuser and PUBLIC may create in it.
    admin = _createrole_admin(db)
    superuser = sql.Identifier(db._superuser()[0])
    db.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(superuser))
    db.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    role = db.role("ro")
    before = catalog_snapshot(db, role)

    with pytest.raises(ProvisionFailed, match="only the owner of schema 'public'"):
        provision(db.url_for(admin, PASSWORD), role, password=PASSWORD, harden=True)
    after_refusal = catalog_snapshot(db, role)
    unhardened = provision(db.url_for(admin, PASSWORD), role, password=PASSWORD)

    assert after_refusal == before
    assert unhardened.created
    assert "public-create" in {finding.code for finding in unhardened.warnings}


def test_the_role_itself_as_an_owner_is_refused_and_nothing_is_done(
    shop: TestDatabase,
) -> None:
    # Default privileges FOR ROLE the role itself would make it own catalog
    # entries, after which every later provision and drop refuses the role.
    role = shop.role("ro")
    provision(shop.url, role, password=PASSWORD)
    before = catalog_snapshot(shop, role)

    with pytest.raises(UsageError, match="cannot be one of the --owner roles") as info:
        provision(shop.url, role, owners=[role])
    again = provision(shop.url, role)

    assert "\n" not in str(info.value)
    assert catalog_snapshot(shop, role) == before
    assert not again.changed


def test_the_connecting_role_itself_is_refused_even_forced(db: TestDatabase) -> None:
    admin = _createrole_admin(db)
    before = catalog_snapshot(db, admin)

    with pytest.raises(UsageError, match="connected as") as info:
        provision(db.url_for(admin, PASSWORD), admin, force=True)

    assert "\n" not in str(info.value)
    assert catalog_snapshot(db, admin) == before


@pytest.mark.parametrize("limit", [-2, 2**31])
def test_connection_limit_out_of_range_is_refused(
    shop: TestDatabase, limit: int
) -> None:
    role = shop.role("ro")

    with pytest.raises(UsageError, match="connection limit"):
        provision(shop.url, role, password=PASSWORD, connection_limit=limit)

    assert shop.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_repr_of_a_result_holds_no_password_verifier(shop: TestDatabase) -> None:
    role = shop.role("ro")

    result = provision(shop.url, role, password=PASSWORD)

    assert result.password_changed
    assert "SCRAM-SHA-256$" not in repr(result)
    assert PASSWORD not in repr(result)


def test_read_only_url_carries_no_secret_of_the_admin_url(shop: TestDatabase) -> None:
    role = shop.role("ro")
    admin_url = shop.url + "?sslmode=disable&sslpassword=key-passphrase"

    result = provision(admin_url, role, password=PASSWORD)

    assert "sslmode=disable" in result.read_only_url
    assert "key-passphrase" not in result.read_only_url
    assert psycopg.conninfo.conninfo_to_dict(result.read_only_url)["user"] == role


def test_default_privileges_that_let_the_role_write_are_refused_unless_forced(
    db: TestDatabase,
) -> None:
    # Written before the role is provisioned: tables the owner creates later
    # would be writable by it however read-only it looks today.
    role = db.role("ro", password=PASSWORD)
    ident = sql.Identifier(role)
    db.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO {}"
        ).format(ident)
    )
    db.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO {}").format(ident)
    )
    before = catalog_snapshot(db, role)

    with pytest.raises(RoleNotReadOnly, match="future tables") as info:
        provision(db.url, role)
    unchanged = catalog_snapshot(db, role)
    provision(db.url, role, force=True)
    again = provision(db.url, role)
    db.execute("CREATE TABLE later (x int); CREATE SEQUENCE later_seq")

    with role_connect(db, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.autocommit = False
        insert = attempt(conn, "INSERT INTO later VALUES (1)")
        nextval = attempt(conn, "SELECT nextval('later_seq')")
        read = attempt(conn, "SELECT count(*) FROM later")
        last_value = attempt(conn, "SELECT last_value FROM later_seq")
    assert "\n" not in str(info.value)
    assert unchanged == before
    assert not again.changed
    assert (insert, nextval, read, last_value) == ("42501", "42501", "ok", "ok")


def test_createrole_admin_gives_login_to_a_nologin_role_it_created(
    db: TestDatabase,
) -> None:
    # Since PostgreSQL 16 naming CREATEDB, REPLICATION, BYPASSRLS or SUPERUSER in
    # ALTER ROLE needs that attribute, even to say NO: only LOGIN may be named.
    admin = _createrole_admin(db)
    role = db.role("ro")
    with db.connect(db.url_for(admin, PASSWORD)) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))

    result = provision(db.url_for(admin, PASSWORD), role, password=PASSWORD)

    assert "set-attributes" in {change["action"] for change in result.changes}
    with role_connect(db, role) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)
