"""``drop()``: everything the role holds goes, then the role itself."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from conftest import TestDatabase
from psycopg import sql
from test_provision import PASSWORD, catalog_snapshot

from dbrole_switch.errors import UsageError
from dbrole_switch.provision import ProvisionFailed, RoleNotReadOnly, drop, provision


def _exists(db: TestDatabase, role: str) -> bool:
    return bool(db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]))


def _mentions(db: TestDatabase, role: str) -> list[str]:
    """Every ACL or default-privilege entry in this database that names *role*."""
    rows = db.execute(
        """
        SELECT 'class ' || c.oid::regclass::text FROM pg_class AS c
        WHERE EXISTS (SELECT 1 FROM aclexplode(c.relacl) AS a
                      WHERE a.grantee = %(role)s::regrole)
        UNION ALL
        SELECT 'schema ' || n.nspname FROM pg_namespace AS n
        WHERE EXISTS (SELECT 1 FROM aclexplode(n.nspacl) AS a
                      WHERE a.grantee = %(role)s::regrole)
        UNION ALL
        SELECT 'default ' || d.defaclobjtype::text FROM pg_default_acl AS d
        WHERE EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) AS a
                      WHERE a.grantee = %(role)s::regrole)
        UNION ALL
        SELECT 'database ' || d.datname FROM pg_database AS d
        WHERE d.datname = current_database()
          AND EXISTS (SELECT 1 FROM aclexplode(d.datacl) AS a
                      WHERE a.grantee = %(role)s::regrole)
        """,
        {"role": sql.Identifier(role).as_string()},
    )
    return [row[0] for row in rows]


@pytest.fixture
def provisioned(db: TestDatabase) -> str:
    db.execute(
        "CREATE SCHEMA app; CREATE TABLE app.t (id serial PRIMARY KEY);"
        " CREATE TABLE public.u (x int); CREATE FUNCTION app.f() RETURNS int"
        " AS 'SELECT 1' LANGUAGE sql"
    )
    role = db.role("ro")
    provision(db.url, role, password=PASSWORD)
    return role


def test_drop_revokes_everything_and_drops_the_role(
    db: TestDatabase, provisioned: str
) -> None:
    db.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION app.f() TO {}").format(
            sql.Identifier(provisioned)
        )
    )
    assert _mentions(db, provisioned)

    result = drop(db.url, provisioned)

    assert result.dropped and result.existed
    assert not _exists(db, provisioned)
    assert {"revoke", "revoke-default", "drop-role"} == {
        change["action"] for change in result.changes
    }


def test_drop_succeeds_when_the_role_held_sequence_privileges(
    db: TestDatabase, provisioned: str
) -> None:
    db.execute(
        sql.SQL("GRANT USAGE, UPDATE ON SEQUENCE app.t_id_seq TO {}").format(
            sql.Identifier(provisioned)
        )
    )

    result = drop(db.url, provisioned)

    assert result.dropped
    assert not _exists(db, provisioned)


def test_dry_run_changes_nothing_and_shows_the_statements(
    db: TestDatabase, provisioned: str
) -> None:
    before = catalog_snapshot(db, provisioned)

    planned = drop(db.url, provisioned, dry_run=True)

    assert catalog_snapshot(db, provisioned) == before
    assert planned.statements[-1] == f'DROP ROLE "{provisioned}"'
    assert any("REVOKE ALL PRIVILEGES ON SCHEMA" in s for s in planned.statements)


def test_a_role_still_used_elsewhere_is_kept_and_the_databases_named(
    db: TestDatabase, provisioned: str
) -> None:
    other = f"t_{secrets.token_hex(5)}"
    db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    other_url = db.server.url_for(*db._superuser(), dbname=other)
    try:
        with psycopg.connect(other_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE public.x (a int)")
        provision(other_url, provisioned)

        first = drop(db.url, provisioned)
        mentions_here = _mentions(db, provisioned)
        elsewhere = drop(other_url, provisioned)
        last = drop(db.url, provisioned)
    finally:
        db.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(other))
        )

    assert not first.dropped and first.remaining_databases == [other]
    assert mentions_here == []
    assert elsewhere.dropped and not _exists(db, provisioned)
    assert not last.existed and not last.changed


def test_dropping_a_missing_role_is_not_an_error(db: TestDatabase) -> None:
    result = drop(db.url, db.role("ghost"))

    assert not result.existed and not result.changed and not result.dropped


def test_a_superuser_is_never_dropped(db: TestDatabase) -> None:
    role = db.role("admin", password=PASSWORD, attrs="SUPERUSER")

    with pytest.raises(RoleNotReadOnly, match="superuser"):
        drop(db.url, role)

    assert _exists(db, role)


def test_a_role_that_owns_objects_is_not_dropped(db: TestDatabase) -> None:
    role = db.role("ro", password=PASSWORD)
    db.execute("CREATE TABLE owned (x int)")
    db.execute(sql.SQL("ALTER TABLE owned OWNER TO {}").format(sql.Identifier(role)))

    with pytest.raises(RoleNotReadOnly, match="REASSIGN OWNED") as info:
        drop(db.url, role)

    assert "nothing was changed" in str(info.value)
    assert _exists(db, role)


def test_reserved_name_is_refused(db: TestDatabase) -> None:
    with pytest.raises(UsageError, match="reserved"):
        drop(db.url, "public")


def test_drop_by_a_non_superuser_admin_with_createrole(db: TestDatabase) -> None:
    admin = db.role("admin", password=PASSWORD, attrs="CREATEROLE")
    db.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(db.name), sql.Identifier(admin)
        )
    )
    db.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(admin)))
    admin_url = db.url_for(admin, PASSWORD)
    with db.connect(admin_url) as conn:
        conn.execute("CREATE TABLE public.orders (id serial PRIMARY KEY)")
    role = db.role("ro")
    provision(admin_url, role, password=PASSWORD)

    result = drop(admin_url, role)

    assert result.dropped and not _exists(db, role)


def test_json_document_has_stable_keys(db: TestDatabase, provisioned: str) -> None:
    document = drop(db.url, provisioned).to_json()

    assert sorted(document) == [
        "changed",
        "changes",
        "command",
        "database",
        "dropped",
        "dry_run",
        "existed",
        "remaining_databases",
        "role",
        "server_version",
        "statements",
        "warnings",
    ]
    assert document["command"] == "drop" and document["dropped"] is True


def test_type_privileges_are_revoked_too(db: TestDatabase, provisioned: str) -> None:
    db.execute('CREATE TYPE "Odd ""mood""" AS ENUM (\'ok\')')
    db.execute(
        sql.SQL('GRANT USAGE ON TYPE "Odd ""mood""" TO {}').format(
            sql.Identifier(provisioned)
        )
    )

    result = drop(db.url, provisioned)

    assert result.dropped and not _exists(db, provisioned)
    assert 'type public.Odd "mood"' in {change["object"] for change in result.changes}


def test_a_privilege_drop_does_not_revoke_is_named_and_nothing_changes(
    db: TestDatabase, provisioned: str
) -> None:
    db.execute(
        sql.SQL("GRANT USAGE ON LANGUAGE plpgsql TO {}").format(
            sql.Identifier(provisioned)
        )
    )
    before = catalog_snapshot(db, provisioned)

    with pytest.raises(ProvisionFailed, match="language plpgsql") as info:
        drop(db.url, provisioned)

    assert "\n" not in str(info.value)
    assert catalog_snapshot(db, provisioned) == before
