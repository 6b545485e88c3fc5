"""Create, update, drop and re-key the read-only role: the library behind the CLI.

Each command reads the catalog first, works out the statements that would change
something, and runs them in one transaction behind an advisory lock, so a second
identical run sends no DDL, concurrent runs queue up, and a run that dies half way
leaves nothing behind. Every statement comes from a ``.sql`` template rendered with
:mod:`psycopg.sql` (names as ``Identifier``, values as ``Literal``).

The admin needs CREATEROLE and must own the objects (or belong to their owner);
a superuser is needed only to act on what such an admin cannot reach: objects,
schemas or functions owned by a role it does not belong to (``public`` in a
database created before PostgreSQL 15 belongs to the bootstrap superuser, which
matters for ``--harden``), default privileges for an owner it cannot ``SET ROLE``
to, taking SUPERUSER away (``--force``), and on PostgreSQL 16 and later changing or
dropping a role it did not create without ADMIN OPTION on it. Only a superuser can
read the stored verifier, so only then is a repeated password recognised as
unchanged; otherwise it is set again. Each of these is checked before anything is
sent, or reported as a one-line error after a rollback.

Example::

    from dbrole_switch.provision import provision

    result = provision("postgresql://admin@db/app", "app_ro", password="s3cret")
    print(result.changed, result.statements)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from psycopg import sql

from dbrole_switch.connection import scram_verifier
from dbrole_switch.errors import DbroleSwitchError, UsageError
from dbrole_switch.plan import (
    MASKED_PASSWORD,
    Finding,
    ProvisionFailed,
    RoleResult,
    Session,
    Step,
    finish,
    read_only_url,
    transaction,
)
from dbrole_switch.roles import check_role_name

__all__ = [
    "MASKED_PASSWORD",
    "DropResult",
    "Finding",
    "PasswordRequired",
    "ProvisionFailed",
    "ProvisionResult",
    "RoleNotReadOnly",
    "RoleResult",
    "RotateResult",
    "Step",
    "drop",
    "provision",
    "rotate_password",
]

#: The role setting that makes every transaction read-only by default: the belt.
BELT = "default_transaction_read_only"

_DEFAULT_ACL_OBJECTS = {
    "r": "TABLES",
    "S": "SEQUENCES",
    "f": "ROUTINES",
    "T": "TYPES",
    "n": "SCHEMAS",
    "L": "LARGE OBJECTS",
}

_UNSAFE_ATTRIBUTES = ("superuser", "createrole", "createdb", "replication", "bypassrls")

#: The largest CONNECTION LIMIT PostgreSQL accepts (a 32-bit integer).
MAX_CONNECTION_LIMIT = 2**31 - 1


class PasswordRequired(UsageError):
    """A role that does not exist yet needs a password to be created with."""


class RoleNotReadOnly(DbroleSwitchError):
    """An existing role holds rights a read-only role must not have."""


@dataclass
class ProvisionResult(RoleResult):
    """The outcome of :func:`provision`."""

    command: ClassVar[str] = "provision"

    created: bool = False
    password_changed: bool = False
    schemas: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    read_only_url: str = ""

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        document.update(
            created=self.created,
            password_changed=self.password_changed,
            schemas=list(self.schemas),
            owners=list(self.owners),
            read_only_url=self.read_only_url,
        )
        return document


@dataclass
class DropResult(RoleResult):
    """The outcome of :func:`drop`."""

    command: ClassVar[str] = "drop"

    existed: bool = True
    dropped: bool = False
    remaining_databases: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        document.update(
            existed=self.existed,
            dropped=self.dropped,
            remaining_databases=list(self.remaining_databases),
        )
        return document


@dataclass
class RotateResult(RoleResult):
    """The outcome of :func:`rotate_password`."""

    command: ClassVar[str] = "rotate-password"

    read_only_url: str = ""

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        document["read_only_url"] = self.read_only_url
        return document


def _setting_map(settings: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in settings:
        key, _, value = item.partition("=")
        found[key] = value
    return found


def _grants(entries: Iterable[str]) -> set[tuple[str, str]]:
    pairs = set()
    for entry in entries:
        grantee, _, privilege = entry.rpartition(":")
        pairs.add((grantee, privilege))
    return pairs


def _verifier_matches(stored: str | None, password: str) -> bool:
    """Whether *stored* (a SCRAM-SHA-256 verifier) was made from *password*.

    Lets a repeated run with the same password leave the catalog untouched. Only
    ASCII passwords are compared: libpq normalises others (SASLprep) first, and a
    wrong "no" only costs one ALTER ROLE.
    """
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", stored or "")
    if match is None or not password.isascii():
        return False

    iterations, salt, stored_key, server_key = match.groups()
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    expected_stored = hashlib.sha256(client_key).digest()
    expected_server = hmac.new(salted, b"Server Key", "sha256").digest()
    return hmac.compare_digest(
        expected_stored, base64.b64decode(stored_key)
    ) and hmac.compare_digest(expected_server, base64.b64decode(server_key))


def _count(number: int, plural: str) -> str:
    return f"{number} {plural if number != 1 else plural.removesuffix('s')}"


def _dedupe(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _future_objects(row: dict[str, Any]) -> str:
    objects = _DEFAULT_ACL_OBJECTS[row["objtype"]].lower()
    where = f" in schema {row['schema']}" if row["schema"] else ""
    return f"future {objects} of {row['owner']}{where}"


def _unsafe_problems(
    session: Session, existing: dict[str, Any], role: str
) -> tuple[list[str], list[dict[str, Any]]]:
    problems = [f"has {name.upper()}" for name in _UNSAFE_ATTRIBUTES if existing[name]]
    if existing["member_of"]:
        problems.append("is a member of " + ", ".join(existing["member_of"]))

    unsafe = session.rows("provision/inspect_unsafe.sql", role_oid=existing["oid"])
    for row in unsafe:
        if row["kind"] == "owned":
            raise RoleNotReadOnly(
                f"role {role!r} owns {row['objects']} object(s) here; a read-only "
                f"role cannot own anything: REASSIGN OWNED BY it to the owner role "
                "first"
            )
        if row["kind"] in ("table", "column"):
            problems.append(
                f"may write to {row['objects']} {row['kind']}(s) in schema "
                f"{row['schema']!r}"
            )
        elif row["kind"] == "schema":
            problems.append(f"may CREATE in schema {row['schema']!r}")
        elif row["kind"] == "default":
            problems.append(f"may write to {_future_objects(row)} (default privileges)")
        else:
            problems.append("may CREATE in the database")
    return problems, unsafe


def provision(
    url: str,
    role: str,
    *,
    password: str | None = None,
    schemas: Sequence[str] | None = None,
    owners: Sequence[str] | None = None,
    harden: bool = False,
    dry_run: bool = False,
    force: bool = False,
    connection_limit: int | None = None,
    valid_until: str | None = None,
    statement_timeout: str | None = None,
    idle_in_transaction_timeout: str | None = None,
    templates: str | Path | None = None,
) -> ProvisionResult:
    """Create or update the read-only *role* in the database of *url*.

    *password* ``None`` keeps an existing role's password and is an error for a new
    role (:class:`PasswordRequired`). *schemas* defaults to every non-system
    schema; *owners* (whose future tables stay readable) to the connecting role
    plus the owners of existing tables and sequences in them. Nothing is sent that
    would not change the catalog, so a second run reports ``changed == False``::

        result = provision(url, "app_ro", password="s3cret", harden=True)
        for change in result.changes:
            print(change["action"], change["object"])
    """
    check_role_name(role)
    if password == "":
        raise UsageError("the password cannot be empty")
    if connection_limit is not None and not (
        -1 <= connection_limit <= MAX_CONNECTION_LIMIT
    ):
        raise UsageError(
            f"the connection limit must be between -1 (no limit) and "
            f"{MAX_CONNECTION_LIMIT}"
        )
    if owners and role in owners:
        # Default privileges FOR ROLE the role itself would be owned by it, and a
        # read-only role must own nothing (provision and drop would refuse it).
        raise UsageError(
            f"role {role!r} cannot be one of the --owner roles: name the roles "
            "that create the tables"
        )

    with transaction(url, dry_run=dry_run, directory=templates) as session:
        admin = session.one("provision/inspect_admin.sql")
        assert admin is not None
        if admin["admin"] == role:
            raise UsageError(
                f"role {role!r} is the role you are connected as: connect as "
                "another admin role to provision it"
            )

        result = ProvisionResult(
            role=role,
            database=admin["database"],
            server_version=admin["server_version"],
            dry_run=dry_run,
        )
        result.read_only_url = read_only_url(url, role, admin["database"])
        _plan_provision(
            session,
            result,
            admin,
            password=password,
            schemas=schemas,
            owners=owners,
            harden=harden,
            force=force,
            connection_limit=connection_limit,
            valid_until=valid_until,
            settings={
                "statement_timeout": statement_timeout,
                "idle_in_transaction_session_timeout": idle_in_transaction_timeout,
            },
        )
        finish(session, result, dry_run=dry_run)
        result.statements_sent = session.sent

    return result


@dataclass
class _Revoked:
    """What ``--force`` takes away, so that the plan grants SELECT and USAGE again."""

    schemas: set[str] = field(default_factory=set)
    database: bool = False
    #: (owner, schema name or None, objtype) of default privileges taken away.
    defaults: set[tuple[str, str | None, str]] = field(default_factory=set)


def _plan_provision(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    *,
    password: str | None,
    schemas: Sequence[str] | None,
    owners: Sequence[str] | None,
    harden: bool,
    force: bool,
    connection_limit: int | None,
    valid_until: str | None,
    settings: dict[str, str | None],
) -> None:
    existing = session.one("provision/inspect_role.sql", role=result.role)
    role_oid = existing["oid"] if existing else None

    if existing is None:
        _plan_new_role(session, result, admin, password)
        revoked = _Revoked()
    else:
        revoked = _plan_existing_role(session, result, admin, existing, password, force)
    _plan_role_settings(
        session, result, existing, connection_limit, valid_until, settings
    )

    database = session.one("provision/inspect_database.sql", role_oid=role_oid)
    assert database is not None
    if revoked.database or not database["role_connect"]:
        result.steps.append(
            session.step(
                "grant-connect",
                f"database {result.database}",
                "provision/grant_connect.sql",
                database=sql.Identifier(result.database),
                role=sql.Identifier(result.role),
            )
        )

    chosen = _choose_schemas(session, result, schemas, role_oid)
    relations = session.rows(
        "provision/inspect_relations.sql",
        role_oid=role_oid,
        schema_oids=[row["oid"] for row in chosen],
    )
    relation_owners = _dedupe(row["owner"] for row in relations)
    result.owners = (
        _dedupe(owners) if owners else _dedupe([admin["admin"], *relation_owners])
    )
    _plan_grants(session, result, admin, chosen, relations, revoked)
    _plan_owners(
        session, result, admin, chosen, result.owners, relation_owners, revoked
    )

    if harden:
        _plan_harden(session, result, admin, database, chosen, result.owners)
    else:
        _warn_unhardened(session, result, database, chosen)


def _plan_new_role(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    password: str | None,
) -> None:
    role = result.role
    if not (admin["superuser"] or admin["createrole"]):
        raise ProvisionFailed(
            f"the admin role {admin['admin']!r} cannot create roles: it needs "
            f"CREATEROLE (as a superuser: ALTER ROLE {admin['admin']} CREATEROLE)"
        )

    if password is None and result.dry_run:
        # A dry run shows the statement with the password masked anyway.
        password = ""
    elif password is None:
        raise PasswordRequired(
            f"role {role!r} does not exist yet and needs a password: use "
            "--password-stdin or --generate-password"
        )

    verifier = scram_verifier(session.conn, role, password)
    result.steps.append(
        session.step(
            "create-role",
            f"role {role} (LOGIN, password set)",
            "provision/create_role.sql",
            role=sql.Identifier(role),
            secret=sql.Literal(verifier),
        )
    )
    result.created = True
    result.password_changed = True


def _plan_existing_role(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    existing: dict[str, Any],
    password: str | None,
    force: bool,
) -> _Revoked:
    role = result.role
    ident = sql.Identifier(role)
    steps = result.steps
    revoked = _Revoked()
    problems, unsafe = _unsafe_problems(session, existing, role)
    if problems and not force:
        raise RoleNotReadOnly(
            f"role {role!r} already exists and is not read-only: it "
            + "; ".join(problems)
            + ". Pass --force to take those rights away and make it read-only"
        )

    keywords = [f"NO{name.upper()}" for name in _UNSAFE_ATTRIBUTES if existing[name]]
    if not existing["login"]:
        keywords.insert(0, "LOGIN")
    if keywords:
        steps.append(
            session.step(
                "set-attributes",
                f"role {role} ({', '.join(keywords)})",
                "provision/set_attributes.sql",
                role=ident,
                attributes=sql.SQL(" ").join(map(sql.SQL, keywords)),
            )
        )

    for group in existing["member_of"]:
        steps.append(
            session.step(
                "revoke-membership",
                f"membership of {role} in {group}",
                "provision/revoke_membership.sql",
                group=sql.Identifier(group),
                role=ident,
            )
        )

    for row in unsafe:
        name = row["schema"]
        if row["kind"] in ("table", "column") and name not in revoked.schemas:
            revoked.schemas.add(name)
            for kind in ("table", "sequence"):
                steps.append(
                    session.step(
                        "revoke-writes",
                        f"{kind}s in schema {name}",
                        f"provision/revoke_{kind}_writes.sql",
                        schema=sql.Identifier(name),
                        role=ident,
                    )
                )
        elif row["kind"] == "schema":
            revoked.schemas.add(name)
            steps.append(
                session.step(
                    "revoke-writes",
                    f"schema {name}",
                    "provision/revoke_schema_create.sql",
                    schema=sql.Identifier(name),
                    role=ident,
                )
            )
        elif row["kind"] == "default":
            revoked.defaults.add((row["owner"], name, row["objtype"]))
            # REVOKE ALL, as drop does; the plan then grants SELECT on the future
            # tables and sequences of the chosen schemas again.
            steps.append(
                _revoke_default(
                    session,
                    "revoke-writes",
                    _future_objects(row),
                    role=role,
                    owner=row["owner"],
                    schema=name,
                    objtype=row["objtype"],
                )
            )
        elif row["kind"] == "database":
            revoked.database = True
            steps.append(
                session.step(
                    "revoke-writes",
                    f"database {result.database}",
                    "provision/revoke_database_create.sql",
                    database=sql.Identifier(result.database),
                    role=ident,
                )
            )

    if password is None:
        return revoked

    stored = None
    if admin["superuser"]:
        secret_row = session.one("provision/inspect_password.sql", role=role)
        stored = secret_row["rolpassword"] if secret_row else None
    if not _verifier_matches(stored, password):
        steps.append(_set_password(session, role, password))
        result.password_changed = True
    return revoked


def _revoke_default(
    session: Session,
    action: str,
    target: str,
    *,
    role: str,
    owner: str,
    schema: str | None,
    objtype: str,
) -> Step:
    parts: dict[str, sql.Composable] = {
        "owner": sql.Identifier(owner),
        "objects": sql.SQL(_DEFAULT_ACL_OBJECTS[objtype]),
        "role": sql.Identifier(role),
    }
    if schema is None:
        return session.step(action, target, "drop/revoke_default.sql", **parts)

    return session.step(
        action,
        target,
        "drop/revoke_default_in_schema.sql",
        schema=sql.Identifier(schema),
        **parts,
    )


def _set_password(session: Session, role: str, password: str) -> Step:
    verifier = scram_verifier(session.conn, role, password)
    return session.step(
        "set-password",
        f"password of {role}",
        "provision/set_password.sql",
        role=sql.Identifier(role),
        secret=sql.Literal(verifier),
    )


def _plan_role_settings(
    session: Session,
    result: ProvisionResult,
    existing: dict[str, Any] | None,
    connection_limit: int | None,
    valid_until: str | None,
    settings: dict[str, str | None],
) -> None:
    role = result.role
    ident = sql.Identifier(role)
    if connection_limit is not None and (
        existing is None or existing["connection_limit"] != connection_limit
    ):
        result.steps.append(
            session.step(
                "set-connection-limit",
                f"role {role}: {connection_limit}",
                "provision/connection_limit.sql",
                role=ident,
                limit=sql.Literal(connection_limit),
            )
        )

    if valid_until is not None and not _same_valid_until(
        session, role, valid_until, existing
    ):
        result.steps.append(
            session.step(
                "set-valid-until",
                f"role {role}: {valid_until}",
                "provision/valid_until.sql",
                role=ident,
                valid_until=sql.Literal(valid_until),
            )
        )

    current = _setting_map(existing["settings"] if existing else [])
    here = _setting_map(existing["database_settings"] if existing else [])
    wanted = {BELT: "on"}
    wanted.update({key: value for key, value in settings.items() if value is not None})
    for name, value in wanted.items():
        if current.get(name) != value:
            result.steps.append(
                session.step(
                    "set-setting",
                    f"role {role}: {name} = {value}",
                    "provision/set_setting.sql",
                    role=ident,
                    name=sql.Identifier(name),
                    value=sql.Literal(value),
                )
            )
        # ALTER ROLE ... IN DATABASE wins over ALTER ROLE ... SET in this database.
        if name in here and here[name] != value:
            result.steps.append(
                session.step(
                    "reset-setting",
                    f"role {role} in database {result.database}: {name}",
                    "provision/reset_database_setting.sql",
                    role=ident,
                    database=sql.Identifier(result.database),
                    name=sql.Identifier(name),
                )
            )


def _choose_schemas(
    session: Session,
    result: ProvisionResult,
    schemas: Sequence[str] | None,
    role_oid: int | None,
) -> list[dict[str, Any]]:
    all_schemas = session.rows("provision/inspect_schemas.sql", role_oid=role_oid)
    if not schemas:
        result.schemas = [row["name"] for row in all_schemas]
        return all_schemas

    system = [n for n in schemas if n.startswith("pg_") or n == "information_schema"]
    if system:
        raise UsageError(
            f"--schema {system[0]!r} is a system schema: its catalogs are readable "
            "by every role already; name the application's schemas"
        )

    by_name = {row["name"]: row for row in all_schemas}
    missing = [name for name in _dedupe(schemas) if name not in by_name]
    if missing:
        raise UsageError(
            f"no schema named {', '.join(repr(n) for n in missing)} in database "
            f"{result.database!r}; existing: {', '.join(sorted(by_name)) or 'none'}"
        )
    result.schemas = _dedupe(schemas)
    return [by_name[name] for name in result.schemas]


def _plan_grants(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    chosen: list[dict[str, Any]],
    relations: list[dict[str, Any]],
    revoked: _Revoked,
) -> None:
    ident = sql.Identifier(result.role)
    superuser = bool(admin["superuser"])
    for row in chosen:
        if row["role_usage"] and row["name"] not in revoked.schemas:
            continue
        if not (superuser or row["admin_acts_for_owner"]):
            # PUBLIC's USAGE (the default on public) is enough to read it.
            if row["public_usage"]:
                continue
            raise ProvisionFailed(
                f"the admin role {admin['admin']!r} cannot grant USAGE on schema "
                f"{row['name']!r} (owned by {row['owner']!r}): grant it "
                f"{row['owner']!r}, or connect as a superuser; nothing was changed"
            )
        result.steps.append(
            session.step(
                "grant-usage",
                f"schema {row['name']}",
                "provision/grant_usage.sql",
                schema=sql.Identifier(row["name"]),
                role=ident,
            )
        )

    for row in chosen:
        here = [r for r in relations if r["schema_oid"] == row["oid"]]
        forced = row["name"] in revoked.schemas
        for kind in ("tables", "sequences"):
            lacking = [r for r in here if r[f"{kind}_missing"] or (forced and r[kind])]
            if not lacking:
                continue
            # Without the owner's rights GRANT only warns and grants nothing, so
            # this is checked before anything is sent.
            blocked = _dedupe(
                r["owner"]
                for r in lacking
                if not (superuser or r["admin_acts_for_owner"])
            )
            if blocked:
                raise ProvisionFailed(
                    f"the admin role {admin['admin']!r} cannot grant SELECT on {kind} "
                    f"in schema {row['name']!r} owned by "
                    f"{', '.join(repr(o) for o in blocked)}: grant those roles to "
                    f"{admin['admin']!r}, or connect as a superuser; "
                    "nothing was changed"
                )
            count = sum(r[kind] for r in here)
            result.steps.append(
                session.step(
                    f"grant-select-{kind}",
                    f"{_count(count, kind)} in schema {row['name']}",
                    f"provision/grant_select_{kind}.sql",
                    schema=sql.Identifier(row["name"]),
                    role=ident,
                )
            )


def _same_valid_until(
    session: Session, role: str, valid_until: str, existing: dict[str, Any] | None
) -> bool:
    if existing is None:
        return False

    try:
        row = session.one(
            "provision/inspect_valid_until.sql", role=role, valid_until=valid_until
        )
    except ProvisionFailed:
        raise UsageError(
            f"--valid-until {valid_until!r} is not a timestamp PostgreSQL accepts "
            "(e.g. 2030-01-31 or 'infinity')"
        ) from None
    return bool(row and row["same"])


def _plan_owners(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    chosen: list[dict[str, Any]],
    owner_list: list[str],
    relation_owners: list[str],
    revoked: _Revoked,
) -> None:
    role = result.role
    set_mode = "SET" if result.server_version >= 160000 else "MEMBER"
    known = {
        row["name"]: row
        for row in session.rows(
            "provision/inspect_roles.sql", names=owner_list, set_mode=set_mode
        )
    }
    missing = [name for name in owner_list if name not in known]
    if missing:
        raise UsageError(
            f"--owner {', '.join(repr(n) for n in missing)}: no such role; "
            "nothing was changed"
        )

    defaults = session.rows("provision/inspect_default_acl.sql", owners=owner_list)
    entries = {
        (row["owner"], row["schema_oid"], row["objtype"]): _grants(row["grants"])
        for row in defaults
    }
    for owner in owner_list:
        for row in chosen:
            for objtype, kind, template in (
                ("r", "tables", "provision/default_select_tables.sql"),
                ("S", "sequences", "provision/default_select_sequences.sql"),
            ):
                granted = entries.get((owner, row["oid"], objtype), set())
                taken = (owner, row["name"], objtype) in revoked.defaults
                if (role, "SELECT") in granted and not taken:
                    continue
                if not (admin["superuser"] or known[owner]["admin_sets"]):
                    raise ProvisionFailed(
                        f"the admin role {admin['admin']!r} cannot set default "
                        f"privileges for owner {owner!r}: it must be a member of "
                        f"that role (GRANT {owner} TO {admin['admin']}), or connect "
                        "as a superuser; nothing was changed"
                    )
                result.steps.append(
                    session.step(
                        "default-privileges",
                        f"SELECT on future {kind} of {owner} in schema {row['name']}",
                        template,
                        owner=sql.Identifier(owner),
                        schema=sql.Identifier(row["name"]),
                        role=sql.Identifier(role),
                    )
                )

    for name in relation_owners:
        if name not in owner_list:
            result.warnings.append(
                Finding(
                    "owner-not-covered",
                    f"{name!r} owns tables or sequences in the chosen schemas but is "
                    "not an owner given to provision: what it creates later will not "
                    "be readable",
                    f"add --owner {name}",
                )
            )

    for row in session.rows("provision/inspect_members.sql", owners=owner_list):
        result.warnings.append(
            Finding(
                "member-creates-own-objects",
                f"login role {row['member']!r} belongs to owner {row['owner']!r}; "
                "tables it creates are owned by itself, which default privileges "
                f"for {row['owner']!r} do not cover",
                f"have its migrations run SET ROLE {row['owner']}, or add --owner "
                f"{row['member']}",
            )
        )


def _routine_parts(row: dict[str, Any]) -> dict[str, sql.Composable]:
    return {
        "routine": sql.Identifier(row["schema"], row["name"]),
        "arguments": sql.SQL(", ").join(
            sql.Identifier(schema, name)
            for schema, name in zip(row["arg_schemas"], row["arg_types"], strict=True)
        ),
    }


def _signature(row: dict[str, Any]) -> str:
    return f"{row['schema']}.{row['name']}({', '.join(row['arg_types'])})"


def _plan_harden(
    session: Session,
    result: ProvisionResult,
    admin: dict[str, Any],
    database: dict[str, Any],
    chosen: list[dict[str, Any]],
    owner_list: list[str],
) -> None:
    steps = result.steps
    superuser = bool(admin["superuser"])
    db_ident = sql.Identifier(result.database)

    if database["public_temp"]:
        if not (superuser or admin["acts_for_database_owner"]):
            raise ProvisionFailed(
                f"--harden: only the owner of database {result.database!r} "
                f"({admin['database_owner']!r}) or a superuser can revoke TEMPORARY "
                "from PUBLIC; nothing was changed"
            )
        steps.append(
            session.step(
                "harden-temp",
                f"TEMPORARY on database {result.database} from PUBLIC",
                "harden/revoke_public_temp.sql",
                database=db_ident,
            )
        )
        for owner in owner_list:
            if owner in database["temp_grantees"]:
                continue
            steps.append(
                session.step(
                    "grant-temp",
                    f"TEMPORARY on database {result.database} to {owner}",
                    "harden/grant_temp.sql",
                    database=db_ident,
                    grantee=sql.Identifier(owner),
                )
            )

    for row in chosen:
        if not row["public_create"]:
            continue
        if not (superuser or row["admin_acts_for_owner"]):
            raise ProvisionFailed(
                f"--harden: only the owner of schema {row['name']!r} "
                f"({row['owner']!r}) or a superuser can revoke CREATE from PUBLIC; "
                "nothing was changed"
            )
        steps.append(
            session.step(
                "harden-create",
                f"CREATE on schema {row['name']} from PUBLIC",
                "harden/revoke_public_create.sql",
                schema=sql.Identifier(row["name"]),
            )
        )
        for owner in owner_list:
            if owner == row["owner"]:
                continue
            # Owners that relied on PUBLIC's CREATE (migrations) keep it.
            steps.append(
                session.step(
                    "grant-create",
                    f"CREATE on schema {row['name']} to {owner}",
                    "harden/grant_create.sql",
                    schema=sql.Identifier(row["name"]),
                    grantee=sql.Identifier(owner),
                )
            )

    functions = session.rows(
        "provision/inspect_definer_functions.sql",
        schema_oids=[row["oid"] for row in chosen],
    )
    for row in functions:
        if not (superuser or row["admin_acts_for_owner"]):
            raise ProvisionFailed(
                f"--harden: only the owner of SECURITY DEFINER function "
                f"{_signature(row)} ({row['owner']!r}) or a superuser can revoke "
                "EXECUTE from PUBLIC; nothing was changed"
            )
        parts = _routine_parts(row)
        steps.append(
            session.step(
                "harden-execute",
                f"EXECUTE on {_signature(row)} from PUBLIC",
                "harden/revoke_public_execute.sql",
                **parts,
            )
        )
        for owner in owner_list:
            if owner == row["owner"] or owner in row["grantees"]:
                continue
            steps.append(
                session.step(
                    "grant-execute",
                    f"EXECUTE on {_signature(row)} to {owner}",
                    "harden/grant_execute.sql",
                    grantee=sql.Identifier(owner),
                    **parts,
                )
            )

    defaults = session.rows("provision/inspect_default_acl.sql", owners=owner_list)
    global_functions = {
        row["owner"]: _grants(row["grants"])
        for row in defaults
        if row["objtype"] == "f" and row["schema_oid"] == 0
    }
    for owner in owner_list:
        grants = global_functions.get(owner)
        # No entry means the built-in default, under which PUBLIC may execute.
        if grants is not None and ("", "EXECUTE") not in grants:
            continue
        steps.append(
            session.step(
                "harden-default-execute",
                f"EXECUTE on future routines of {owner} from PUBLIC",
                "harden/default_revoke_execute.sql",
                owner=sql.Identifier(owner),
            )
        )
        for other in owner_list:
            if other == owner or (grants and (other, "EXECUTE") in grants):
                continue
            steps.append(
                session.step(
                    "default-grant-execute",
                    f"EXECUTE on future routines of {owner} to {other}",
                    "harden/default_grant_execute.sql",
                    owner=sql.Identifier(owner),
                    grantee=sql.Identifier(other),
                )
            )


def _warn_unhardened(
    session: Session,
    result: ProvisionResult,
    database: dict[str, Any],
    chosen: list[dict[str, Any]],
) -> None:
    for row in chosen:
        if row["public_create"]:
            result.warnings.append(
                Finding(
                    "public-create",
                    f"PUBLIC may CREATE in schema {row['name']!r}, so the role can "
                    "create tables there once it turns its read-only default off",
                    "run provision again with --harden, or: REVOKE CREATE ON SCHEMA "
                    f"{sql.Identifier(row['name']).as_string(session.conn)} "
                    "FROM PUBLIC",
                )
            )

    if database["public_temp"]:
        result.warnings.append(
            Finding(
                "public-temp",
                "PUBLIC may create temporary tables in this database, so the role "
                "can too once it turns its read-only default off (no persistent "
                "data changes)",
                "run provision again with --harden",
            )
        )

    functions = session.rows(
        "provision/inspect_definer_functions.sql",
        schema_oids=[row["oid"] for row in chosen],
    )
    for row in functions:
        result.warnings.append(
            Finding(
                "public-execute-definer",
                f"PUBLIC may execute SECURITY DEFINER function {_signature(row)}, "
                f"which runs with the rights of {row['owner']!r}",
                "run provision again with --harden",
            )
        )


def rotate_password(
    url: str,
    role: str,
    password: str,
    *,
    dry_run: bool = False,
    templates: str | Path | None = None,
) -> RotateResult:
    """Give the existing *role* a new password, sent as a SCRAM-SHA-256 verifier.

    Example::

        rotate_password(url, "app_ro", new_password)
    """
    check_role_name(role)
    if not password:
        raise UsageError("the new password cannot be empty")

    with transaction(url, dry_run=dry_run, directory=templates) as session:
        admin = session.one("provision/inspect_admin.sql")
        assert admin is not None
        existing = session.one("provision/inspect_role.sql", role=role)
        if existing is None:
            raise UsageError(
                f"role {role!r} does not exist: create it with dbrole-switch provision"
            )
        if existing["superuser"]:
            raise RoleNotReadOnly(
                f"role {role!r} is a superuser, not a read-only role; "
                "rotate-password leaves it alone"
            )

        result = RotateResult(
            role=role,
            database=admin["database"],
            server_version=admin["server_version"],
            dry_run=dry_run,
            read_only_url=read_only_url(url, role, admin["database"]),
        )
        result.steps.append(_set_password(session, role, password))
        finish(session, result, dry_run=dry_run)
        result.statements_sent = session.sent

    return result


def drop(
    url: str,
    role: str,
    *,
    dry_run: bool = False,
    templates: str | Path | None = None,
) -> DropResult:
    """Revoke everything *role* holds in this database, then drop it if it can go.

    When the role still holds privileges or owns objects in other databases, those
    are listed in ``remaining_databases`` and the role is kept; run ``drop`` there
    and then here again. A role that does not exist is not an error
    (``existed == False``), so an interrupted drop can simply be rerun::

        result = drop(url, "app_ro")
        if not result.dropped:
            print("still used in", result.remaining_databases)
    """
    check_role_name(role)

    with transaction(url, dry_run=dry_run, directory=templates) as session:
        admin = session.one("provision/inspect_admin.sql")
        assert admin is not None
        result = DropResult(
            role=role,
            database=admin["database"],
            server_version=admin["server_version"],
            dry_run=dry_run,
        )
        existing = session.one("provision/inspect_role.sql", role=role)
        if existing is None:
            result.existed = False
            result.statements_sent = session.sent
            return result

        if existing["superuser"]:
            raise RoleNotReadOnly(
                f"role {role!r} is a superuser, not a read-only role; "
                "drop leaves it alone"
            )

        _plan_drop(session, result, existing)
        finish(session, result, dry_run=dry_run)
        result.statements_sent = session.sent

    return result


def _plan_drop(session: Session, result: DropResult, existing: dict[str, Any]) -> None:
    role = result.role
    ident = sql.Identifier(role)
    held = session.rows("drop/inspect_grants.sql", role_oid=existing["oid"])
    templates = {
        "tables": "drop/revoke_tables.sql",
        "sequences": "drop/revoke_sequences.sql",
        "routines": "drop/revoke_routines.sql",
        "schema": "drop/revoke_schema.sql",
    }

    for row in held:
        kind = row["kind"]
        if kind == "owned":
            raise RoleNotReadOnly(
                f"role {role!r} owns {row['objects']} object(s) in database "
                f"{result.database!r}: REASSIGN OWNED BY it to another role (or "
                "DROP OWNED BY it) first; nothing was changed"
            )
        if kind in templates:
            label = (
                f"schema {row['schema']}"
                if kind == "schema"
                else f"{_count(row['objects'], kind)} in schema {row['schema']}"
            )
            result.steps.append(
                session.step(
                    "revoke",
                    label,
                    templates[kind],
                    schema=sql.Identifier(row["schema"]),
                    role=ident,
                )
            )
        elif kind == "type":
            result.steps.append(
                session.step(
                    "revoke",
                    f"type {row['schema']}.{row['owner']}",
                    "drop/revoke_type.sql",
                    type=sql.Identifier(row["schema"], row["owner"]),
                    role=ident,
                )
            )
        elif kind == "database":
            result.steps.append(
                session.step(
                    "revoke",
                    f"database {result.database}",
                    "drop/revoke_database.sql",
                    database=sql.Identifier(result.database),
                    role=ident,
                )
            )
        elif kind.startswith("default:"):
            objtype = kind.removeprefix("default:")
            where = f" in schema {row['schema']}" if row["schema"] else ""
            result.steps.append(
                _revoke_default(
                    session,
                    "revoke-default",
                    f"default privileges of {row['owner']} on "
                    f"{_DEFAULT_ACL_OBJECTS[objtype].lower()}{where}",
                    role=role,
                    owner=row["owner"],
                    schema=row["schema"],
                    objtype=objtype,
                )
            )

    elsewhere = session.rows("drop/inspect_elsewhere.sql", role_oid=existing["oid"])
    result.remaining_databases = [row["database"] for row in elsewhere]
    if not result.remaining_databases:
        result.steps.append(
            session.step("drop-role", f"role {role}", "drop/drop_role.sql", role=ident)
        )
        result.dropped = True
