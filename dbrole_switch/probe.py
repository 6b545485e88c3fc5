"""``verify --probe``: log in as the read-only role and try to write.

Every attempt runs inside one ``READ WRITE`` transaction (the read-only default
is a session setting the user can switch off, so the probe switches it off too),
each behind its own savepoint, and the transaction is always rolled back. Writes
are shaped so they touch no row and evaluate no column default (``INSERT ...
SELECT ... WHERE false``), so sequences do not advance and nothing is left
behind. ``TRUNCATE`` is the exception: when it is allowed, it does empty the
table inside that transaction, holding its lock until the rollback a moment later.
Short ``lock_timeout`` and ``statement_timeout`` keep the probe from queueing
behind, or in front of, anyone else; an attempt that times out is reported as
not checked.

Outcomes are read from SQLSTATE, never from message text: messages change
between PostgreSQL versions and languages.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dbrole_switch import templates
from dbrole_switch.connection import connect
from dbrole_switch.verify import (
    ERROR,
    WARNING,
    Finding,
    NotChecked,
    ProbeAttempt,
    VerifyError,
)

if TYPE_CHECKING:
    from dbrole_switch.verify import ProbeTargets, Report

logger = logging.getLogger("dbrole_switch")

REFUSED = "refused"
PERMITTED = "permitted"
NOT_CHECKED = "not checked"

INSUFFICIENT_PRIVILEGE = "42501"
READ_ONLY_TRANSACTION = "25006"
# TRUNCATE checks privileges before it waits for its lock, and refuses tables
# referenced by foreign keys only after that check.
PAST_TRUNCATE_CHECK = frozenset({"55P03", "0A000"})

PROBE_NAME = "dbrole_switch_probe"
LOCK_TIMEOUT = "200ms"
STATEMENT_TIMEOUT = "5s"


@dataclass(frozen=True)
class _Attempt:
    action: str
    subject: str
    statement: sql.Composed
    severity: str
    fix: sql.Composed | None = None
    fallbacks: tuple[_Attempt, ...] = ()


def run_probe(
    url: str, role: str, password: str, report: Report, targets: ProbeTargets
) -> None:
    """Try each write as *role*; record attempts and findings in *report*."""
    with connect(url, user=role, password=password, autocommit=True) as conn:
        try:
            _probe(conn, role, report, targets)
        except psycopg.Error as exc:
            # e.g. a hot standby refuses BEGIN READ WRITE, or the server went away.
            reason = exc.diag.message_primary or str(exc).strip().split("\n")[0]
            raise VerifyError(f"the probe could not run as {role}: {reason}") from None


def _probe(
    conn: psycopg.Connection[Any], role: str, report: Report, targets: ProbeTargets
) -> None:
    attempts = _plan(conn, role, targets)
    report.probe = []
    report.probe_statements = 0
    conn.execute("BEGIN READ WRITE")
    try:
        conn.execute(
            templates.render(
                "verify/probe/timeouts.sql",
                lock_timeout=sql.Literal(LOCK_TIMEOUT),
                statement_timeout=sql.Literal(STATEMENT_TIMEOUT),
            )
        )
        pending = list(attempts)
        while pending:
            attempt = pending.pop(0)
            outcome, sqlstate = _try(conn, attempt)
            _record(conn, report, role, attempt, outcome, sqlstate)
            if outcome == REFUSED:
                # Refused for the whole table: a column grant only shows
                # when that column is tried on its own.
                pending[:0] = attempt.fallbacks
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("ROLLBACK")


def _record(
    conn: psycopg.Connection[Any],
    report: Report,
    role: str,
    attempt: _Attempt,
    outcome: str,
    sqlstate: str | None,
) -> None:
    assert report.probe is not None
    report.probe_statements += 1
    report.probe.append(
        ProbeAttempt(attempt.action, attempt.subject, outcome, sqlstate)
    )
    if outcome == PERMITTED and attempt.severity == ERROR:
        fix = "" if attempt.fix is None else attempt.fix.as_string(conn)
        report.add(_finding(role, attempt, sqlstate, fix))
    elif outcome == NOT_CHECKED:
        report.not_checked.append(
            NotChecked(
                f"probe {attempt.action} {attempt.subject}",
                f"undecided (SQLSTATE {sqlstate}), e.g. a lock held by another session",
            )
        )


def _plan(
    conn: psycopg.Connection[Any], role: str, targets: ProbeTargets
) -> list[_Attempt]:
    query = templates.render(
        "verify/probe/columns.sql", schemas=sql.Literal(targets.schemas)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query).fetchall()

    grantees = sql.SQL("PUBLIC, {}").format(sql.Identifier(role))

    def revoke(privilege: str, kind: str, name: sql.Identifier) -> sql.Composed:
        return templates.render(
            "verify/fix/revoke.sql",
            privileges=sql.SQL(privilege),
            kind=sql.SQL(kind),
            name=name,
            grantees=grantees,
        )

    attempts: list[_Attempt] = []
    for schema in targets.schemas:
        attempts.append(
            _Attempt(
                "CREATE TABLE",
                schema,
                templates.render(
                    "verify/probe/create_table.sql",
                    table=sql.Identifier(schema, PROBE_NAME),
                ),
                ERROR,
                revoke("CREATE", "SCHEMA", sql.Identifier(schema)),
            )
        )
    attempts.append(
        _Attempt(
            "CREATE SCHEMA",
            targets.database,
            templates.render(
                "verify/probe/create_schema.sql", schema=sql.Identifier(PROBE_NAME)
            ),
            ERROR,
            revoke("CREATE", "DATABASE", sql.Identifier(targets.database)),
        )
    )
    for action, statement in (
        (
            "CREATE TEMP TABLE",
            templates.render(
                "verify/probe/create_temp.sql", table=sql.Identifier(PROBE_NAME)
            ),
        ),
        ("lo_create", templates.render("verify/probe/large_object.sql")),
        (
            "pg_logical_emit_message",
            templates.render(
                "verify/probe/logical_message.sql", prefix=sql.Literal(PROBE_NAME)
            ),
        ),
        (
            "pg_advisory_xact_lock",
            templates.render(
                "verify/probe/advisory_lock.sql", key=sql.Literal(PROBE_NAME)
            ),
        ),
    ):
        attempts.append(_Attempt(action, targets.database, statement, WARNING))

    for row in rows:
        table = sql.Identifier(row["nspname"], row["relname"])
        subject = f"{row['nspname']}.{row['relname']}"
        insertable: list[str] = list(row["insertable"] or [])
        updatable: list[str] = list(row["updatable"] or [])
        if insertable:
            attempts += _column_attempts(
                "INSERT", "insert.sql", table, subject, insertable, grantees
            )
        if updatable:
            attempts += _column_attempts(
                "UPDATE", "update.sql", table, subject, updatable, grantees
            )
        for action, template in (
            ("DELETE", "delete.sql"),
            ("TRUNCATE", "truncate.sql"),
        ):
            attempts.append(
                _Attempt(
                    action,
                    subject,
                    templates.render(f"verify/probe/{template}", table=table),
                    ERROR,
                    revoke(action, "TABLE", table),
                )
            )
    return attempts


def _column_attempts(
    action: str,
    template: str,
    table: sql.Identifier,
    subject: str,
    columns: list[str],
    grantees: sql.Composable,
) -> list[_Attempt]:
    """One attempt with every column; each column alone if that is refused."""

    def attempt(chosen: list[str], label: str) -> _Attempt:
        statement = templates.render(
            f"verify/probe/{template}",
            table=table,
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in chosen),
            nulls=sql.SQL(", ").join(sql.NULL for _ in chosen),
            defaults=sql.SQL(", ").join(sql.DEFAULT for _ in chosen),
        )
        if chosen is columns:
            fix = templates.render(
                "verify/fix/revoke.sql",
                privileges=sql.SQL(action),
                kind=sql.SQL("TABLE"),
                name=table,
                grantees=grantees,
            )
        else:
            fix = templates.render(
                "verify/fix/revoke_columns.sql",
                privilege=sql.SQL(action),
                columns=sql.Identifier(chosen[0]),
                name=table,
                grantees=grantees,
            )
        return _Attempt(action, label, statement, ERROR, fix)

    whole = attempt(columns, subject)
    if len(columns) == 1:
        return [whole]
    singles = tuple(attempt([c], f"{subject} ({c})") for c in columns)
    return [
        _Attempt(
            whole.action, whole.subject, whole.statement, ERROR, whole.fix, singles
        )
    ]


def _try(conn: psycopg.Connection[Any], attempt: _Attempt) -> tuple[str, str | None]:
    logger.debug("probe: %s", attempt.statement.as_string(conn))
    try:
        with conn.transaction():
            conn.execute(attempt.statement)
    except psycopg.Error as exc:
        return _judge(attempt.action, exc.sqlstate), exc.sqlstate
    return PERMITTED, None


def _judge(action: str, sqlstate: str | None) -> str:
    if sqlstate in (INSUFFICIENT_PRIVILEGE, READ_ONLY_TRANSACTION):
        return REFUSED
    if sqlstate is None:
        return NOT_CHECKED
    if action == "TRUNCATE" and sqlstate in PAST_TRUNCATE_CHECK:
        return PERMITTED
    if sqlstate.startswith("23"):
        # Integrity violations are raised after the privilege check passed.
        return PERMITTED
    return NOT_CHECKED


def _finding(role: str, attempt: _Attempt, sqlstate: str | None, fix: str) -> Finding:
    how = (
        "succeeded"
        if sqlstate is None
        else f"passed the privilege check (SQLSTATE {sqlstate})"
    )
    return Finding(
        "probe_write",
        attempt.severity,
        attempt.subject,
        f"logged in as {role}, {attempt.action} on {attempt.subject} {how}; "
        "the transaction was rolled back",
        (fix + "\n" if fix else "")
        + "or, if a catalog finding shows a membership, revoke that membership",
    )
