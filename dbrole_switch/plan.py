"""A plan of statements, and the one transaction that runs it.

Every command first reads the catalog and collects :class:`Step` objects, then
:func:`transaction` sends them in one transaction behind an advisory lock, or, in a
dry run, only renders them. Statements come from ``.sql`` templates; each one that
carries a password verifier has a masked twin for anything printed or logged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dbrole_switch import templates as _templates
from dbrole_switch.connection import connect, make_url, parse
from dbrole_switch.errors import DbroleSwitchError, UsageError

log = logging.getLogger("dbrole_switch")

#: The advisory lock every dbrole-switch run takes; any fixed bigint would do, it
#: only has to be the same for every run ("dbrole" in ASCII).
LOCK_KEY = 0x6462726F6C65

#: What a password verifier looks like in anything printed or logged.
MASKED_PASSWORD = "********"  # noqa: S105


class ProvisionFailed(DbroleSwitchError):
    """The server refused a step; the transaction was rolled back."""


@dataclass(frozen=True)
class Finding:
    """Something the operator should know about, with the fix."""

    code: str
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Step:
    """One statement to send, what it changes, and how it may be shown."""

    action: str
    target: str
    # The query may carry a password verifier: only its masked twin is shown.
    query: sql.Composed = field(repr=False)
    shown: sql.Composed

    def to_json(self) -> dict[str, str]:
        return {"action": self.action, "object": self.target}


@dataclass
class RoleResult:
    """What a command did (or, in a dry run, would do) to a role."""

    command: ClassVar[str] = ""

    role: str
    database: str
    server_version: int
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    statements_sent: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was (or, in a dry run, would be) changed."""
        return bool(self.steps)

    @property
    def changes(self) -> list[dict[str, str]]:
        return [step.to_json() for step in self.steps]

    def to_json(self) -> dict[str, Any]:
        """A document with stable keys and no secret, for ``--json``."""
        return {
            "command": self.command,
            "role": self.role,
            "database": self.database,
            "server_version": self.server_version,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "changes": self.changes,
            "statements": list(self.statements),
            "warnings": [finding.to_json() for finding in self.warnings],
        }


class Session:
    """One admin connection inside one transaction, counting what it sends."""

    def __init__(
        self, conn: psycopg.Connection[Any], directory: str | Path | None
    ) -> None:
        self.conn = conn
        self.directory = directory
        self.sent = 0

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        # Catalog queries always come from the package: an override directory is
        # for policy (what is granted), not for how the state is read.
        query = _templates.load(name)
        log.debug("-- reading the catalog: %s", name)
        self.sent += 1
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query, params)
                return cur.fetchall()
        except psycopg.Error as exc:
            raise ProvisionFailed(
                f"reading the catalog failed: {_primary(exc)}; nothing was changed"
            ) from None

    def one(self, name: str, **params: Any) -> dict[str, Any] | None:
        found = self.rows(name, **params)
        return found[0] if found else None

    def render(self, template: str, /, **parts: sql.Composable) -> sql.Composed:
        # Files missing from the override directory come from the package, so an
        # organisation only copies the templates whose policy it changes.
        directory = self.directory
        if directory is not None and not (Path(directory) / template).is_file():
            directory = None
        try:
            return _templates.load(template, directory).format(**parts)
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(
                f"template {template} in {directory} cannot be filled in ({exc!r}); "
                f"its placeholders can be: {', '.join(sorted(parts))}"
            ) from None

    def step(
        self,
        action: str,
        target: str,
        template: str,
        /,
        *,
        secret: sql.Composable | None = None,
        **parts: sql.Composable,
    ) -> Step:
        if secret is None:
            query = self.render(template, **parts)
            return Step(action, target, query, query)
        query = self.render(template, **parts, password=secret)
        shown = self.render(template, **parts, password=sql.Literal(MASKED_PASSWORD))
        return Step(action, target, query, shown)

    def text(self, query: sql.Composable) -> str:
        return query.as_string(self.conn)

    def lock(self) -> None:
        self.sent += 1
        self.conn.execute(self.render("provision/lock.sql", key=sql.Literal(LOCK_KEY)))

    def run(self, step: Step) -> None:
        log.debug("%s;", self.text(step.shown))
        self.sent += 1
        try:
            self.conn.execute(step.query)
        except psycopg.Error as exc:
            raise ProvisionFailed(
                f"cannot {step.action.replace('-', ' ')} ({step.target}): "
                f"{_primary(exc)}{_hint(exc, step)}; nothing was changed"
            ) from None


def _primary(exc: psycopg.Error) -> str:
    # The server's primary message is one line; str(exc) may add DETAIL and the
    # statement context.
    message = exc.diag.message_primary or ""
    if not message:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = lines[0] if lines else type(exc).__name__
    return message


_ROLE_ACTIONS = frozenset(
    {
        "create-role",
        "set-attributes",
        "set-password",
        "set-connection-limit",
        "set-valid-until",
        "set-setting",
        "reset-setting",
        "revoke-membership",
        "drop-role",
    }
)


def _hint(exc: psycopg.Error, step: Step) -> str:
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        # PostgreSQL 16 and later say in the detail which attribute was missing.
        detail = (exc.diag.message_detail or "").splitlines()
        if step.action in _ROLE_ACTIONS and detail:
            return f" ({detail[0].rstrip('.')}; or connect as a superuser)"
        if step.action in _ROLE_ACTIONS:
            return (
                " (the admin role needs CREATEROLE, and on PostgreSQL 16 and later "
                "ADMIN OPTION on a role it did not create; or connect as a superuser)"
            )
        return (
            " (the admin role must own the objects or belong to their owner; or "
            "connect as a superuser)"
        )
    if isinstance(exc, psycopg.errors.DependentObjectsStillExist):
        # The detail names what still refers to the role, one object per line.
        detail = (exc.diag.message_detail or "").splitlines()
        if detail:
            return f" (still: {detail[0]}; revoke it, then run the command again)"
    if isinstance(exc, psycopg.errors.DuplicateObject | psycopg.errors.UniqueViolation):
        return " (another run changed the same role meanwhile: run the command again)"
    return ""


@contextlib.contextmanager
def transaction(
    url: str, *, dry_run: bool, directory: str | Path | None
) -> Iterator[Session]:
    conn = connect(url)
    try:
        if dry_run:
            # A dry run reads the same state a real run would, but the server
            # itself guarantees that it writes nothing.
            conn.read_only = True
        session = Session(conn, directory)
        try:
            session.lock()
        except psycopg.Error as exc:
            raise ProvisionFailed(
                f"cannot take the advisory lock: {_primary(exc)}"
            ) from None

        yield session

        if dry_run:
            conn.rollback()
        else:
            try:
                conn.commit()
            except psycopg.Error as exc:
                # The connection may have dropped after the server committed: only
                # a new run can tell, and it is safe to repeat.
                raise ProvisionFailed(
                    f"the commit failed: {_primary(exc)}; run the command again to "
                    "finish it or see that nothing is left to do"
                ) from None
    except BaseException:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        raise
    finally:
        conn.close()


def finish(session: Session, result: RoleResult, *, dry_run: bool) -> None:
    result.statements = [session.text(step.shown) for step in result.steps]
    if not dry_run:
        for step in result.steps:
            session.run(step)
        for step in result.steps:
            log.info("%s: %s", step.action, step.target)


#: Connection parameters that are the admin's secrets, never the read-only role's.
_SECRET_PARAMS = ("password", "sslpassword")


def read_only_url(url: str, role: str, database: str) -> str:
    params: dict[str, Any] = dict(parse(url))
    for name in _SECRET_PARAMS:
        params.pop(name, None)
    params["user"] = role
    params["dbname"] = database
    return make_url(params)
