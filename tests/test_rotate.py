"""``rotate_password()``: a new password, sent only as a SCRAM verifier."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import TestDatabase
from test_provision import PASSWORD, catalog_snapshot

from dbrole_switch.errors import UsageError
from dbrole_switch.provision import RoleNotReadOnly, provision, rotate_password


@pytest.fixture
def role(db: TestDatabase) -> str:
    name = db.role("ro")
    provision(db.url, name, password=PASSWORD)
    return name


def test_rotation_replaces_the_password(
    db: TestDatabase, role: str, needs_password_auth: None
) -> None:
    new = "new-" + os.urandom(8).hex()

    result = rotate_password(db.url, role, new)

    with db.connect(db.url_for(role, new)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)
    with pytest.raises(psycopg.OperationalError):
        db.connect(db.url_for(role, PASSWORD))
    assert result.changed
    assert result.statements == [f"ALTER ROLE \"{role}\" WITH PASSWORD '********'"]


def test_plain_passwords_never_reach_the_server_log(
    pg_server: Any, db: TestDatabase
) -> None:
    if pg_server.log_path is None:
        pytest.skip(f"{pg_server.name} has no server log we can read")
    first = "first-" + os.urandom(8).hex()
    second = "second-" + os.urandom(8).hex()
    name = db.role("ro")

    provision(db.url, name, password=first)
    rotate_password(db.url, name, second)

    log_text = Path(pg_server.log_path).read_text(errors="replace")
    assert f'ALTER ROLE "{name}" WITH PASSWORD' in log_text
    assert first not in log_text and second not in log_text
    stored = db.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name])
    assert stored[0][0].startswith("SCRAM-SHA-256$")


def test_dry_run_changes_nothing(db: TestDatabase, role: str) -> None:
    before = catalog_snapshot(db, role)

    result = rotate_password(db.url, role, "whatever-else", dry_run=True)

    assert catalog_snapshot(db, role) == before
    assert result.dry_run and result.statements


def test_missing_role_is_one_line(db: TestDatabase) -> None:
    with pytest.raises(UsageError, match=r"does not exist.*provision") as info:
        rotate_password(db.url, db.role("ghost"), "x-password")

    assert "\n" not in str(info.value)


def test_a_superuser_is_left_alone(db: TestDatabase) -> None:
    admin = db.role("admin", password=PASSWORD, attrs="SUPERUSER")
    before = catalog_snapshot(db, admin)

    with pytest.raises(RoleNotReadOnly, match="superuser"):
        rotate_password(db.url, admin, "x-password")

    assert catalog_snapshot(db, admin) == before


def test_empty_password_is_refused(db: TestDatabase, role: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        rotate_password(db.url, role, "")


def test_json_document_has_stable_keys_and_no_secret(
    db: TestDatabase, role: str
) -> None:
    document = rotate_password(db.url, role, "fresh-password-123").to_json()

    assert sorted(document) == [
        "changed",
        "changes",
        "command",
        "database",
        "dry_run",
        "read_only_url",
        "role",
        "server_version",
        "statements",
        "warnings",
    ]
    assert "fresh-password-123" not in repr(document)
    assert "SCRAM-SHA-256$" not in repr(document)
