"""Audit a read-only role: it reads what it should and can write nothing.

The audit asks PostgreSQL's privilege functions (``has_table_privilege``,
``has_any_column_privilege``, ``pg_has_role`` ...) rather than parsing ACLs: they
see privileges inherited through memberships, predefined roles and PUBLIC. Each
check is one set-based catalog query, so the number of queries does not grow with
the number of tables::

    report = verify("postgresql://admin@db/app", "app_ro")
    for finding in report.errors:
        print(finding.subject, finding.message, finding.fix)
"""

from __future__ import annotations

import logging
import re
import shlex
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dbrole_switch import templates
from dbrole_switch.connection import connect
from dbrole_switch.errors import DbroleSwitchError, UsageError

logger = logging.getLogger("dbrole_switch")

ERROR = "error"
WARNING = "warning"
NOTE = "note"

# Predefined roles that only read or observe: membership is not a finding.
READING_PREDEFINED = frozenset(
    {
        "pg_monitor",
        "pg_read_all_data",
        "pg_read_all_settings",
        "pg_read_all_stats",
        "pg_stat_scan_tables",
    }
)
# Predefined roles that change no data but are more than a reader should have.
# Every other predefined role (pg_write_all_data, pg_write_server_files,
# pg_execute_server_program, pg_maintain, pg_create_subscription, and any added
# by a future release) is an error: the audit fails closed.
DISRUPTIVE_PREDEFINED = frozenset(
    {
        "pg_checkpoint",
        "pg_read_server_files",
        "pg_signal_autovacuum_worker",
        "pg_signal_backend",
        "pg_use_reserved_connections",
    }
)

ATTRIBUTES = (
    ("rolsuper", "SUPERUSER", "NOSUPERUSER", "it bypasses every permission check"),
    ("rolcreaterole", "CREATEROLE", "NOCREATEROLE", "it can create and alter roles"),
    ("rolcreatedb", "CREATEDB", "NOCREATEDB", "it can create databases"),
    (
        "rolreplication",
        "REPLICATION",
        "NOREPLICATION",
        "it can stream the whole cluster and manage replication slots",
    ),
    ("rolbypassrls", "BYPASSRLS", "NOBYPASSRLS", "it ignores row-level security"),
)

RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
}

BASE_TABLE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES")
# Keywords rendered into fixes; anything else coming back from the server is
# refused rather than spliced into SQL.
PRIVILEGE_KEYWORDS = frozenset(
    {*BASE_TABLE_PRIVILEGES, "TRIGGER", "MAINTAIN", "SELECT", "USAGE", "CREATE"}
)

LARGE_OBJECT_FUNCTIONS = ("lo_create", "lo_creat", "lo_from_bytea", "lo_import")
ADVISORY_FUNCTIONS = (
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
)
# Superuser-only built-ins that only read or observe: a grant of one is a
# warning; a grant of any other (lo_import, lo_export, replication origins,
# and whatever a future release adds) is an error.
OBSERVING_BUILTIN_PREFIXES = (
    "pg_read_",
    "pg_ls_",
    "pg_stat_file",
    "pg_current_logfile",
    "pg_show_",
    "pg_hba_file_rules",
    "pg_ident_file_mappings",
    "pg_config",
    "pg_get_",
)
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
TRUE_WORDS = frozenset({"on", "true", "yes", "1", "t", "y"})

# How many relations a grouped finding names before it says "and N more".
EXAMPLES = 5


class VerifyError(DbroleSwitchError):
    """The audit itself could not run (as opposed to finding problems)."""


@dataclass(frozen=True)
class Finding:
    """One problem with the role, and how to fix it.

    *code* is stable (for scripts), *subject* names the object, *fix* is SQL or
    the ``dbrole-switch provision`` option that removes the problem.
    """

    code: str
    severity: str
    subject: str
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class NotChecked:
    """A check the auditor could not run; its outcome is unknown, not clean."""

    check: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "reason": self.reason}


@dataclass(frozen=True)
class ProbeAttempt:
    """One write ``--probe`` tried as the role, and what the server said."""

    action: str
    subject: str
    outcome: str  # "refused", "permitted" or "not checked"
    sqlstate: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "action": self.action,
            "subject": self.subject,
            "outcome": self.outcome,
            "sqlstate": self.sqlstate,
        }


@dataclass
class Report:
    """The outcome of :func:`verify`."""

    role: str
    database: str = ""
    server_version: int = 0
    auditor: str = ""
    auditor_superuser: bool = False
    schemas: list[str] = field(default_factory=list)
    strict: bool = False
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    queries: int = 0
    seconds: float = 0.0
    probe: list[ProbeAttempt] | None = None
    probe_statements: int = 0

    @property
    def ok(self) -> bool:
        """No errors; with *strict*, also no warnings and nothing left unchecked."""
        if self.errors:
            return False
        return not (self.strict and (self.warnings or self.not_checked))

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 1 (the CLI's exit status)."""
        return 0 if self.ok else 1

    def add(self, finding: Finding) -> None:
        {ERROR: self.errors, WARNING: self.warnings, NOTE: self.notes}[
            finding.severity
        ].append(finding)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with stable keys; it never holds a password."""
        return {
            "role": self.role,
            "database": self.database,
            "server_version": self.server_version,
            "auditor": self.auditor,
            "auditor_superuser": self.auditor_superuser,
            "schemas": list(self.schemas),
            "strict": self.strict,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
            "notes": [f.to_json() for f in self.notes],
            "not_checked": [n.to_json() for n in self.not_checked],
            "queries": self.queries,
            "seconds": round(self.seconds, 4),
            "probe": None
            if self.probe is None
            else {
                "statements": self.probe_statements,
                "attempts": [a.to_json() for a in self.probe],
            },
        }


def verify(
    url: str,
    role: str,
    *,
    schemas: Sequence[str] | None = None,
    probe: bool = False,
    probe_password: str | None = None,
    strict: bool = False,
) -> Report:
    """Audit *role* on the database *url* points at, connecting as the auditor.

    *schemas* limits the coverage check (every table, view and sequence must be
    readable) to those schemas; write paths are looked for everywhere. With
    *probe*, the audit also logs in as *role* with *probe_password* and tries
    each write in a transaction that is always rolled back. With *strict*,
    warnings and checks the auditor could not run also make the report fail
    (``report.ok`` false, ``report.exit_code`` 1). Raises
    :class:`~dbrole_switch.errors.UsageError` when the role or a schema does not
    exist, and :class:`~dbrole_switch.errors.ConnectionFailed` when a login fails.

    Example::

        report = verify(os.environ["DATABASE_URL"], "app_ro", strict=True)
        sys.exit(report.exit_code)
    """
    if probe and probe_password is None:
        raise UsageError("probing logs in as the role: give its password")

    started = time.perf_counter()
    report = Report(role=role, strict=strict)
    with connect(url, autocommit=True) as conn:
        audit = _Audit(conn, role, report, schemas)
        audit.run()
        targets = audit.probe_targets
    if probe:
        from dbrole_switch.probe import run_probe

        assert probe_password is not None
        run_probe(url, role, probe_password, report, targets)
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class ProbeTargets:
    """What the catalog says exists, for ``--probe`` to try writing to."""

    schemas: list[str]
    database: str


class _Audit:
    """One audit run: a connection, the role, and the report being filled."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        role: str,
        report: Report,
        schemas: Sequence[str] | None,
    ) -> None:
        self.conn = conn
        self.role = role
        self.report = report
        self.requested_schemas = None if schemas is None else list(schemas)
        self.version = conn.info.server_version // 10000
        self.role_id = sql.Identifier(role)
        self.probe_targets = ProbeTargets([], "")
        # Memberships through which privileges are inherited, for fixes of
        # writes that are neither granted directly nor through PUBLIC.
        self.inheriting_memberships: list[str] = []
        self.advisory: list[str] = []

    # -- plumbing ---------------------------------------------------------

    def query(
        self, check: str, template: str, /, **params: Any
    ) -> list[dict[str, Any]] | None:
        """Run *template*; ``None`` (and a "not checked") if not allowed."""
        literals = {
            key: value if isinstance(value, sql.Composable) else sql.Literal(value)
            for key, value in params.items()
        }
        query = templates.render(
            f"verify/{template}", role=sql.Literal(self.role), **literals
        )
        self.report.queries += 1
        logger.debug("verify %s: %s", check, query.as_string(self.conn))
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query)
                rows: list[dict[str, Any]] = cur.fetchall()
                return rows
        except (
            psycopg.errors.InsufficientPrivilege,
            psycopg.errors.QueryCanceled,
        ) as exc:
            reason = (exc.diag.message_primary or type(exc).__name__).strip()
            self.report.not_checked.append(NotChecked(check, reason))
            return None
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip()
            raise VerifyError(f"the {check} check failed: {message}") from None

    def fix(self, template: str, /, **params: Any) -> str:
        """Render fix *template* as SQL text, without its comment header."""
        return str(
            templates.render(f"verify/fix/{template}", **params).as_string(self.conn)
        )

    def keywords(self, words: Iterable[str]) -> sql.Composable:
        """Privilege keywords as SQL, refusing anything not on our list."""
        chosen = list(words)
        unknown = [w for w in chosen if w not in PRIVILEGE_KEYWORDS]
        if unknown:
            raise VerifyError(f"unexpected privilege names from the server: {unknown}")
        return sql.SQL(", ").join(sql.SQL(w) for w in chosen)

    def ident(self, *parts: str) -> sql.Identifier:
        return sql.Identifier(*parts)

    def shown(self, *parts: str) -> str:
        """*parts* as a qualified name, quoted only where SQL needs it."""
        return ".".join(
            part
            if PLAIN_NAME.fullmatch(part)
            else str(self.ident(part).as_string(self.conn))
            for part in parts
        )

    def provision_fix(self, *options: str) -> str:
        args = ["dbrole-switch", "provision", self.role, *options]
        for schema in self.requested_schemas or ():
            args += ["--schema", schema]
        return shlex.join(args)

    def add(
        self, code: str, severity: str, subject: str, message: str, fix: str
    ) -> None:
        self.report.add(Finding(code, severity, subject, message, fix))

    # -- the checks ---------------------------------------------------------

    def run(self) -> None:
        self.report.server_version = self.version
        rows = self.query("role", "role.sql")
        if rows is None:
            raise VerifyError("the auditor cannot read the role catalog (pg_roles)")
        if not rows:
            raise UsageError(
                f"role {self.role!r} does not exist; create it with "
                f"'dbrole-switch provision {shlex.quote(self.role)}'"
            )

        info = rows[0]
        self.report.database = info["datname"]
        self.report.auditor = info["auditor"]
        self.report.auditor_superuser = bool(info["auditor_superuser"])
        self.check_attributes(info)
        self.check_database(info)
        self.check_builtins(info)
        self.check_settings(info)
        self.check_memberships()
        self.check_owned(info)
        if info["rolsuper"]:
            # A superuser passes every privilege function: listing each table
            # as writable would bury the one finding that matters.
            return

        self.check_schemas()
        self.check_relations()
        self.check_functions()
        self.check_foreign()
        self.check_grants()
        self.check_default_privileges()

    def check_attributes(self, info: dict[str, Any]) -> None:
        for column, name, negation, why in ATTRIBUTES:
            if info[column]:
                self.add(
                    "role_attribute",
                    ERROR,
                    name,
                    f"role {self.role} has {name}: {why}",
                    self.fix(
                        "alter_role.sql",
                        role=self.role_id,
                        attributes=sql.SQL(negation),
                    ),
                )
        if not info["rolcanlogin"]:
            self.add(
                "cannot_login",
                ERROR,
                self.role,
                f"role {self.role} has NOLOGIN: it cannot connect to read anything",
                self.fix("login.sql", role=self.role_id),
            )
        elif info["rolconnlimit"] == 0:
            self.add(
                "cannot_login",
                ERROR,
                self.role,
                f"role {self.role} has CONNECTION LIMIT 0: it cannot connect to read "
                "anything",
                self.fix("connection_limit.sql", role=self.role_id),
            )
        if info["expired"]:
            self.add(
                "password_expired",
                ERROR,
                self.role,
                f"the password of role {self.role} expired at {info['valid_until']}: "
                "it cannot log in with it to read anything",
                self.fix("valid_until.sql", role=self.role_id)
                + "\nor: "
                + self.provision_fix("--valid-until", "TIMESTAMP"),
            )
        self.add(
            "changes_own_settings",
            NOTE,
            self.role,
            f"like every role, {self.role} can change its own password and session "
            "defaults (ALTER ROLE ... SET default_transaction_read_only = off); "
            "PostgreSQL has no privilege to take this away, which is why the "
            "read-only default is a belt and the missing privileges are the guarantee",
            "none needed: the privilege checks above are what keep it read-only",
        )

    def check_database(self, info: dict[str, Any]) -> None:
        database = info["datname"]
        db_id = self.ident(database)
        self.probe_targets = ProbeTargets(self.probe_targets.schemas, database)
        if not info["db_connect"]:
            self.add(
                "connect_missing",
                ERROR,
                database,
                f"role {self.role} cannot connect to database {database}",
                self.fix("grant_connect.sql", database=db_id, role=self.role_id),
            )
        if info["db_create"]:
            through = " through PUBLIC" if info["db_create_public"] else ""
            self.add(
                "database_create",
                ERROR,
                database,
                f"role {self.role} can create schemas in database {database}{through}",
                self.fix(
                    "revoke.sql",
                    privileges=self.keywords(["CREATE"]),
                    kind=sql.SQL("DATABASE"),
                    name=db_id,
                    grantees=self.grantees(bool(info["db_create_public"])),
                ),
            )
        if info["db_temp"]:
            through = " through PUBLIC" if info["db_temp_public"] else ""
            self.add(
                "temp_tables",
                WARNING,
                database,
                f"role {self.role} can create temporary tables in {database}{through} "
                "(gone at session end, but they use disk and catalog space)",
                self.fix(
                    "revoke.sql",
                    privileges=sql.SQL("TEMPORARY"),
                    kind=sql.SQL("DATABASE"),
                    name=db_id,
                    grantees=self.grantees(True),
                )
                + "\nor: "
                + self.provision_fix("--harden"),
            )
        if info["db_grant_option"]:
            self.add(
                "grant_option",
                ERROR,
                database,
                f"role {self.role} can grant privileges on database {database} "
                "to others",
                self.fix(
                    "revoke_grant_option.sql",
                    privileges=sql.SQL("ALL PRIVILEGES"),
                    kind=sql.SQL("DATABASE"),
                    name=db_id,
                    grantees=self.role_id,
                ),
            )

    def grantees(self, public: bool) -> sql.Composable:
        if public:
            return sql.SQL("PUBLIC, {}").format(self.role_id)
        return self.role_id

    def check_builtins(self, info: dict[str, Any]) -> None:
        executable: list[str] = list(info["executable_builtins"] or [])

        def named(names: Iterable[str]) -> list[str]:
            wanted = set(names)
            return [sig for sig in executable if sig.split("(", 1)[0] in wanted]

        if info["lo_compat_privileges"]:
            self.add(
                "lo_compat_privileges",
                ERROR,
                "lo_compat_privileges",
                "lo_compat_privileges is on: every role can write and delete every "
                "large object",
                self.fix(
                    "lo_compat_database.sql", database=sql.Identifier(info["datname"])
                )
                if info["lo_compat_source"] == "database"
                else self.fix("lo_compat.sql"),
            )
        large_objects = named(LARGE_OBJECT_FUNCTIONS)
        if large_objects:
            self.add(
                "large_objects",
                WARNING,
                ", ".join(sorted({s.split("(", 1)[0] for s in large_objects})),
                f"role {self.role} can create large objects (refused in read-only "
                "transactions, but the read-only default can be switched off)",
                self.function_fix(large_objects),
            )
        emit = named(["pg_logical_emit_message"])
        if emit:
            self.add(
                "logical_message",
                WARNING,
                "pg_logical_emit_message",
                f"role {self.role} can write messages into the WAL with "
                "pg_logical_emit_message, even in a read-only transaction; "
                "logical decoding consumers will receive them",
                self.function_fix(emit),
            )
        self.advisory = named(ADVISORY_FUNCTIONS)

    def function_fix(self, signatures: list[str]) -> str:
        # regprocedure output is quoted by PostgreSQL itself; it is only shown,
        # never executed by us.
        functions = sql.SQL(", ").join(sql.SQL(s) for s in signatures)
        return self.fix("revoke_functions.sql", functions=functions, role=self.role_id)

    def check_settings(self, info: dict[str, Any]) -> None:
        scopes: dict[str, list[str]] = {"role": list(info["rolconfig"] or [])}
        rows = self.query("settings", "settings.sql")
        if rows is None:
            for check in ("read-only default", "lock timeouts"):
                self.report.not_checked.append(
                    NotChecked(
                        check,
                        "pg_db_role_setting is not readable: per-database settings "
                        "of the role are unknown",
                    )
                )
            return

        for row in rows:
            scopes[row["scope"]] = list(row["setconfig"] or [])

        def effective(name: str, *order: str) -> tuple[str | None, str]:
            for scope in order:
                for item in scopes.get(scope, []):
                    key, _, value = item.partition("=")
                    if key == name:
                        return value, scope
            return None, ""

        belt, scope = effective(
            "default_transaction_read_only", "role_in_database", "role"
        )
        if belt is None or belt.strip().lower() not in TRUE_WORDS:
            where = (
                f" (set to {belt!r} for this database)"
                if scope == "role_in_database"
                else ""
            )
            self.add(
                "belt_missing",
                WARNING,
                "default_transaction_read_only",
                f"role {self.role} does not have default_transaction_read_only = on"
                f"{where}: a write a privilege check misses would not be refused",
                self.fix("set_belt.sql", role=self.role_id),
            )

        order = ("role_in_database", "role", "database")
        timeouts = [
            effective(name, *order)[0]
            for name in ("lock_timeout", "idle_in_transaction_session_timeout")
        ]
        if not any(
            value and any(ch in "123456789" for ch in value) for value in timeouts
        ):
            advisory = (
                " and session advisory locks (pg_advisory_lock)"
                if self.advisory
                else ""
            )
            self.add(
                "locks",
                WARNING,
                "lock_timeout",
                f"role {self.role} has neither lock_timeout nor "
                "idle_in_transaction_session_timeout: its ACCESS SHARE locks "
                f"(any SELECT, LOCK TABLE){advisory} can hold up a migration, and its "
                "queries queue behind one without giving up",
                self.fix("set_lock_timeout.sql", role=self.role_id)
                + "\nor: "
                + self.provision_fix("--idle-in-transaction-timeout", "5min"),
            )

    def check_memberships(self) -> None:
        set_mode = "SET" if self.version >= 16 else "MEMBER"
        rows = self.query("memberships", "memberships.sql", set_mode=set_mode)
        if rows is None:
            return

        for row in rows:
            granted = row["granted"]
            path: list[str] = row["path"]
            first = path[0]
            if row["predefined"] and granted in READING_PREDEFINED:
                continue
            severity = WARNING if granted in DISRUPTIVE_PREDEFINED else ERROR
            through = f" through {' -> '.join(path[:-1])}" if len(path) > 1 else ""
            powers = []
            if row["inherits"]:
                powers.append("inherits its privileges")
            if row["can_set"]:
                powers.append("can SET ROLE to it")
            if row["rolsuper"]:
                powers.append("it is a superuser")
            detail = "; ".join(powers) or "membership only"
            kind = "predefined role" if row["predefined"] else "role"
            if row["inherits"] and len(path) == 1:
                self.inheriting_memberships.append(first)
            self.add(
                "membership",
                severity,
                granted,
                f"role {self.role} is a member of {kind} {granted}{through} ({detail})",
                self.fix(
                    "revoke_membership.sql",
                    granted=self.ident(first),
                    member=self.role_id,
                ),
            )
            if row["admin"]:
                self.add(
                    "grant_option",
                    ERROR,
                    granted,
                    f"role {self.role} can grant membership in {granted} to others "
                    "(ADMIN OPTION)",
                    self.fix(
                        "revoke_admin.sql",
                        granted=self.ident(first),
                        member=self.role_id,
                    ),
                )

    def check_owned(self, info: dict[str, Any]) -> None:
        rows = self.query("owned objects", "owned.sql")
        if rows is None:
            return

        new_owner = info["database_owner"]
        reassign = self.fix(
            "reassign_owned.sql", role=self.role_id, owner=self.ident(new_owner)
        )
        for row in rows:
            if row["object"] is not None:
                subject = row["object"]
                message = (
                    f"role {self.role} owns {subject}: an owner can change or drop it"
                )
            else:
                subject = f"database {row['database']}"
                message = (
                    f"role {self.role} owns {row['objects']} object(s) in database "
                    f"{row['database']}"
                )
            self.add(
                "owns_object",
                ERROR,
                subject,
                message,
                reassign
                + " -- in each database concerned, to the role that should own them",
            )

    def check_schemas(self) -> None:
        rows = self.query("schemas", "schemas.sql", schemas=self.requested_schemas)
        if rows is None:
            return

        audited = [row["nspname"] for row in rows if row["audited"]]
        missing = sorted(set(self.requested_schemas or ()) - set(audited))
        if missing:
            raise UsageError(
                f"schema {missing[0]!r} does not exist in database "
                f"{self.report.database}; check --schema"
            )
        self.report.schemas = audited
        self.probe_targets = ProbeTargets(
            [row["nspname"] for row in rows if row["audited"] or row["can_create"]],
            self.report.database,
        )

        for row in rows:
            schema = row["nspname"]
            if row["audited"] and not row["can_use"] and not row["owned"]:
                self.add(
                    "schema_usage",
                    ERROR,
                    schema,
                    f"role {self.role} cannot use schema {schema} (owner "
                    f"{row['owner']}): nothing in it is readable",
                    self.provision_fix()
                    + "\nor: "
                    + self.fix(
                        "grant_usage.sql", schema=self.ident(schema), role=self.role_id
                    ),
                )
            if row["can_create"] and not row["owned"]:
                through = " through PUBLIC" if row["public_create"] else ""
                self.add(
                    "schema_create",
                    ERROR,
                    schema,
                    f"role {self.role} can create objects in schema {schema}{through}",
                    self.fix(
                        "revoke.sql",
                        privileges=self.keywords(["CREATE"]),
                        kind=sql.SQL("SCHEMA"),
                        name=self.ident(schema),
                        grantees=self.grantees(bool(row["public_create"])),
                    ),
                )
            if row["grant_option"] and not row["owned"]:
                self.add(
                    "grant_option",
                    ERROR,
                    schema,
                    f"role {self.role} can grant privileges on schema {schema} "
                    "to others",
                    self.fix(
                        "revoke_grant_option.sql",
                        privileges=sql.SQL("ALL PRIVILEGES"),
                        kind=sql.SQL("SCHEMA"),
                        name=self.ident(schema),
                        grantees=self.role_id,
                    ),
                )

    def check_relations(self) -> None:
        privileges = [*BASE_TABLE_PRIVILEGES, "TRIGGER"]
        if self.version >= 17:
            privileges.append("MAINTAIN")
        grant_check = ", ".join(
            f"{p} WITH GRANT OPTION" for p in ["SELECT", *privileges]
        )
        rows = self.query(
            "relations",
            "relations.sql",
            schemas=self.requested_schemas,
            table_privileges=privileges,
            table_write_check=", ".join(privileges),
            table_grant_check=grant_check,
        )
        if rows is None:
            return

        inherited: dict[tuple[str, ...], list[str]] = {}
        for row in rows:
            name = self.shown(row["nspname"], row["relname"])
            kind = RELKINDS.get(row["relkind"], "relation")
            if row["can_write"]:
                self.relation_writes(row, name, kind, inherited)
            grantable = [p for p in row["grantable"] if p in row["direct_grantable"]]
            columns: dict[str, list[str]] = {}
            for item in row["direct_column_grantable"]:
                privilege, _, column = item.partition(":")
                if privilege not in grantable:
                    columns.setdefault(privilege, []).append(column)
            explained = {*grantable, *columns}
            if row["can_grant"] and explained < set(row["grantable"]):
                # Grant options no direct grant explains come from a role the
                # audited role belongs to (typically the owner): one finding.
                privs = tuple(
                    f"grant {p}" for p in row["grantable"] if p not in explained
                )
                inherited.setdefault(privs, []).append(name)
            for privilege, names in sorted(columns.items()):
                self.add(
                    "grant_option",
                    ERROR,
                    name,
                    f"role {self.role} can grant {privilege} on column(s) "
                    f"{', '.join(self.shown(c) for c in sorted(names))} of {kind} "
                    f"{name} to others (WITH GRANT OPTION)",
                    self.fix(
                        "revoke_column_grant_option.sql",
                        privilege=self.keywords([privilege]),
                        columns=sql.SQL(", ").join(
                            self.ident(c) for c in sorted(names)
                        ),
                        name=self.ident(row["nspname"], row["relname"]),
                        grantees=self.role_id,
                    ),
                )
            if row["can_grant"] and grantable:
                self.add(
                    "grant_option",
                    ERROR,
                    name,
                    f"role {self.role} can grant {', '.join(grantable)} on "
                    f"{kind} {name} to others (WITH GRANT OPTION)",
                    self.fix(
                        "revoke_grant_option.sql",
                        privileges=self.keywords(grantable),
                        kind=self.object_keyword(row["relkind"]),
                        name=self.ident(row["nspname"], row["relname"]),
                        grantees=self.role_id,
                    ),
                )
            if row["audited"] and not row["can_read"]:
                self.unreadable(row, name, kind)

        if inherited:
            self.inherited_writes(inherited)

    def inherited_writes(self, inherited: dict[tuple[str, ...], list[str]]) -> None:
        """One finding for privileges that come from roles the role belongs to.

        Membership in an owner role or pg_write_all_data makes every relation
        writable; one finding per relation would bury the membership finding
        that names the cause.
        """
        names = sorted({name for group in inherited.values() for name in group})
        privileges = sorted({p for group in inherited for p in group})
        shown = ", ".join(names[:EXAMPLES])
        if len(names) > EXAMPLES:
            shown += f" and {len(names) - EXAMPLES} more"
        fixes = [
            self.fix(
                "revoke_membership.sql", granted=self.ident(m), member=self.role_id
            )
            for m in self.inheriting_memberships
        ]
        self.add(
            "inherited_write",
            ERROR,
            f"{len(names)} relation(s)",
            f"role {self.role} can {', '.join(privileges)} on {shown} through a role "
            "it is a member of",
            "\n".join(fixes) or "revoke the memberships reported above",
        )

    def object_keyword(self, relkind: str) -> sql.SQL:
        return sql.SQL("SEQUENCE" if relkind == "S" else "TABLE")

    def relation_writes(
        self,
        row: dict[str, Any],
        name: str,
        kind: str,
        inherited: dict[tuple[str, ...], list[str]],
    ) -> None:
        held: list[str] = list(row["privileges"])
        public = [p for p in held if p in row["public_privileges"]]
        direct = [p for p in held if p in row["direct_privileges"] and p not in public]
        rest = tuple(p for p in held if p not in public and p not in direct)
        code = "sequence_write" if row["relkind"] == "S" else "table_write"
        ident = self.ident(row["nspname"], row["relname"])
        for privs, grantees, through in (
            (public, sql.SQL("PUBLIC"), " through PUBLIC"),
            (direct, self.role_id, ""),
        ):
            if privs:
                self.add(
                    code,
                    ERROR,
                    name,
                    f"role {self.role} has {', '.join(privs)} on {kind} "
                    f"{name}{through}",
                    self.fix(
                        "revoke.sql",
                        privileges=self.keywords(privs),
                        kind=self.object_keyword(row["relkind"]),
                        name=ident,
                        grantees=grantees,
                    ),
                )
        if rest:
            inherited.setdefault(rest, []).append(name)

        by_privilege: dict[str, list[str]] = {}
        for item in row["column_privileges"]:
            privilege, _, column = item.partition(":")
            by_privilege.setdefault(privilege, []).append(column)
        for privilege, columns in by_privilege.items():
            shown = ", ".join(self.shown(c) for c in columns)
            self.add(
                code,
                ERROR,
                name,
                f"role {self.role} has {privilege} on column(s) {shown} of {kind} "
                f"{name} (a column grant)",
                self.fix(
                    "revoke_columns.sql",
                    privilege=self.keywords([privilege]),
                    columns=sql.SQL(", ").join(self.ident(c) for c in columns),
                    name=ident,
                    grantees=self.grantees(True),
                ),
            )

    def unreadable(self, row: dict[str, Any], name: str, kind: str) -> None:
        owner = row["owner"]
        ident = self.ident(row["nspname"], row["relname"])
        message = f"role {self.role} cannot read {kind} {name} (owner {owner})"
        fix = (
            self.provision_fix("--owner", owner)
            + "\nor: "
            + self.fix(
                "grant_select.sql",
                kind=self.object_keyword(row["relkind"]),
                name=ident,
                role=self.role_id,
            )
        )
        groups: list[str] = list(row["owner_member_of"] or [])
        if groups:
            # The usual cause: a migration login that belongs to the owner role
            # created the object without SET ROLE, so it owns it itself and the
            # owner role's default privileges never applied.
            message += (
                f"; {owner} is a member of {', '.join(groups)} and created it without "
                f"SET ROLE {groups[0]}, so default privileges for {groups[0]} did "
                "not apply"
            )
            fix += "\nor: " + self.fix(
                "transfer_owner.sql",
                kind=self.object_keyword(row["relkind"]),
                name=ident,
                owner=self.ident(groups[0]),
            )
        self.add("unreadable", ERROR, name, message, fix)

    def check_functions(self) -> None:
        rows = self.query("security definer functions", "functions.sql")
        if rows is None:
            return

        for row in rows:
            through = " through PUBLIC" if row["via_public"] else ""
            self.add(
                "security_definer",
                ERROR,
                row["signature"],
                f"role {self.role} can execute SECURITY DEFINER function "
                f"{row['signature']}{through}; it runs as {row['owner']}, who "
                f"{row['why']}",
                self.function_fix([row["signature"]]),
            )

    def check_foreign(self) -> None:
        rows = self.query("foreign servers", "foreign.sql")
        if rows is None:
            return

        for row in rows:
            name = row["name"]
            if row["kind"] == "wrapper":
                self.add(
                    "foreign_data_wrapper",
                    ERROR,
                    name,
                    f"role {self.role} has USAGE on foreign-data wrapper {name}: it "
                    "can create foreign servers",
                    self.fix(
                        "revoke_server.sql",
                        kind=sql.SQL("DATA WRAPPER"),
                        name=self.ident(name),
                        role=self.role_id,
                    ),
                )
                continue

            revoke = self.fix(
                "revoke_server.sql",
                kind=sql.SQL("SERVER"),
                name=self.ident(name),
                role=self.role_id,
            )
            if row["mapping"]:
                mapped = "PUBLIC" if row["mapping"] == "PUBLIC" else self.role
                user = sql.SQL("PUBLIC") if row["mapping"] == "PUBLIC" else self.role_id
                self.add(
                    "user_mapping",
                    ERROR,
                    name,
                    f"role {self.role} can connect through foreign server {name} with "
                    f"the user mapping for {mapped} "
                    "(foreign tables, dblink): it writes as whoever that mapping logs "
                    "in as",
                    revoke
                    + "\nor: "
                    + self.fix(
                        "drop_user_mapping.sql", user=user, server=self.ident(name)
                    ),
                )
            else:
                self.add(
                    "user_mapping",
                    ERROR,
                    name,
                    f"role {self.role} has USAGE on foreign server {name}: it can "
                    "create its own user mapping",
                    revoke,
                )

    def check_grants(self) -> None:
        parameters: sql.Composable = sql.SQL("")
        if self.version >= 15:
            parameters = templates.render(
                "verify/grants_parameters.sql", role=sql.Literal(self.role)
            )
        rows = self.query("other grants", "grants.sql", parameters=parameters)
        if rows is None:
            return

        large_objects: dict[str, list[str]] = {}
        for row in rows:
            if row["kind"] == "large_object_write":
                large_objects.setdefault(row["grantee"], []).append(row["object"])
            elif row["kind"] == "grant_option":
                self.other_grant_option(row)
            elif row["kind"] == "builtin_function":
                self.builtin_function(row)
            else:
                self.parameter(row)
        if large_objects:
            self.large_object_writes(large_objects)

    def revoke_other(
        self, row: dict[str, Any], grantees: sql.Composable, *, option: bool = False
    ) -> str:
        kind = row["objtype"]
        if kind == "large object":
            # An oid: digits only, checked because it is spliced in as SQL.
            name: sql.Composable = sql.SQL(str(int(row["object"])))
        elif kind in ("function", "procedure", "type"):
            # pg_identify_object's identity, quoted by PostgreSQL itself.
            name = sql.SQL(row["object"])
        else:
            name = self.ident(row["object"])
        keyword = {"function": "ROUTINE", "procedure": "ROUTINE"}.get(kind, kind)
        privilege = row["privilege"]
        if privilege not in PRIVILEGE_KEYWORDS | {"EXECUTE", "SET", "ALTER SYSTEM"}:
            raise VerifyError(f"unexpected privilege name from the server: {privilege}")
        return self.fix(
            "revoke_other.sql",
            option=sql.SQL("GRANT OPTION FOR " if option else ""),
            privilege=sql.SQL(privilege),
            kind=sql.SQL(keyword.upper()),
            name=name,
            grantees=grantees,
        )

    def other_grant_option(self, row: dict[str, Any]) -> None:
        subject = f"{row['objtype']} {row['object']}"
        self.add(
            "grant_option",
            ERROR,
            subject,
            f"role {self.role} can grant {row['privilege']} on {subject} to others "
            "(WITH GRANT OPTION)",
            self.revoke_other(row, self.role_id, option=True),
        )

    def builtin_function(self, row: dict[str, Any]) -> None:
        signature = row["object"]
        name = signature.split("(", 1)[0].removeprefix("pg_catalog.")
        observes = name.startswith(OBSERVING_BUILTIN_PREFIXES)
        self.add(
            "builtin_function",
            WARNING if observes else ERROR,
            signature,
            f"role {self.role} can execute {signature}, which PostgreSQL (or the "
            "extension that defines it) keeps from PUBLIC; it was granted to "
            f"{row['grantee']}"
            + ("" if observes else ": it acts on the server beyond reading"),
            self.revoke_other(row, self.grantee_named(row["grantee"])),
        )

    def parameter(self, row: dict[str, Any]) -> None:
        name, privilege = row["object"], row["privilege"]
        public = row["grantee"] == "PUBLIC"
        through = " through PUBLIC" if public else ""
        if privilege == "ALTER SYSTEM":
            severity = ERROR
            why = "it can change the server's configuration file"
        elif name == "lo_compat_privileges":
            severity = ERROR
            why = "turned on, it lets the session write every large object"
        else:
            severity = WARNING
            why = "a superuser-only setting"
        self.add(
            "parameter",
            severity,
            name,
            f"role {self.role} has {privilege} on parameter {name}{through}: {why}",
            self.revoke_other(row, self.grantees(public)),
        )

    def large_object_writes(self, by_grantee: dict[str, list[str]]) -> None:
        for grantee, oids in sorted(by_grantee.items()):
            public = grantee == "PUBLIC"
            through = "" if grantee == self.role else f" through {grantee}"
            shown = ", ".join(oids[:EXAMPLES])
            if len(oids) > EXAMPLES:
                shown += f" and {len(oids) - EXAMPLES} more"
            names = sql.SQL(", ").join(sql.SQL(str(int(oid))) for oid in oids)
            self.add(
                "large_object_write",
                ERROR,
                f"large object(s) {shown}",
                f"role {self.role} can change large object(s) {shown}{through} "
                "(UPDATE: lo_put, lowrite, lo_truncate)",
                self.fix(
                    "revoke_other.sql",
                    option=sql.SQL(""),
                    privilege=sql.SQL("UPDATE"),
                    kind=sql.SQL("LARGE OBJECT"),
                    name=names,
                    grantees=self.grantees(True)
                    if public or grantee == self.role
                    else self.ident(grantee),
                ),
            )

    def grantee_named(self, grantee: str) -> sql.Composable:
        return sql.SQL("PUBLIC") if grantee == "PUBLIC" else self.ident(grantee)

    def check_default_privileges(self) -> None:
        rows = self.query(
            "default privileges",
            "default_privileges.sql",
            schemas=self.requested_schemas,
        )
        if rows is None:
            return

        objects = {"r": "TABLES", "S": "SEQUENCES", "n": "SCHEMAS"}
        uncovered: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            if row["kind"] == "uncovered":
                uncovered.setdefault((row["owner"], row["schema"]), []).append(
                    objects[row["objtype"]]
                )
                continue

            grantee = sql.SQL("PUBLIC") if row["grantee"] == "PUBLIC" else self.role_id
            scope = (
                sql.SQL("IN SCHEMA {}").format(self.ident(row["schema"]))
                if row["schema"]
                else sql.SQL("")
            )
            target = objects[row["objtype"]].lower()
            grantee_name = "PUBLIC" if row["grantee"] == "PUBLIC" else self.role
            where = f" in schema {row['schema']}" if row["schema"] else ""
            privilege = row["privilege"]
            if row["is_grantable"] and privilege in ("SELECT", "USAGE"):
                what = f"{privilege} WITH GRANT OPTION"
            else:
                what = privilege
            self.add(
                "default_privilege_write",
                ERROR,
                f"{row['owner']}: {target}{where}",
                f"default privileges give {grantee_name} "
                f"{what} on {target} that {row['owner']} creates{where}",
                self.fix(
                    "default_revoke.sql",
                    owner=self.ident(row["owner"]),
                    scope=scope,
                    privilege=self.keywords([privilege]),
                    objects=sql.SQL(objects[row["objtype"]]),
                    grantees=grantee,
                ),
            )

        for (owner, schema), kinds in uncovered.items():
            fixes = [
                self.fix(
                    "default_select.sql",
                    owner=self.ident(owner),
                    schema=self.ident(schema),
                    objects=sql.SQL(kind),
                    role=self.role_id,
                )
                for kind in kinds
            ]
            self.add(
                "default_privileges_missing",
                WARNING,
                f"{owner}: {schema}",
                f"{' and '.join(k.lower() for k in kinds)} that {owner} creates in "
                f"schema {schema} later will not be readable by {self.role}",
                self.provision_fix("--owner", owner) + "\nor: " + " ".join(fixes),
            )
