"""``dbrole-switch provision``, ``drop`` and ``rotate-password``.

A thin layer over :mod:`dbrole_switch.provision`: it reads passwords (never from an
option value), calls the library, and prints. Data goes to stdout, diagnostics to
stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import click

from dbrole_switch import provision as lib
from dbrole_switch._clicommon import (
    AdminConnection,
    cli_errors,
    database_url_option,
    emit_json,
    has_terminal,
    json_option,
    password_options,
    read_password,
    verbose_option,
)
from dbrole_switch.connection import (
    make_url,
    parse,
    resolve_database_url,
)

T = TypeVar("T")

_JSON_AND_GENERATE = (
    "--json and --generate-password cannot be used together: the JSON document "
    "never holds a secret; generate the password yourself and pass it with "
    "--password-stdin"
)

templates_option = click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Read the templates of the statements sent from DIR first (same layout "
    "as the package's sql/ directory); files missing there, and the catalog "
    "queries, come from the package.",
)

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Print the SQL that would run (passwords masked) and change nothing.",
)


def _warn(result: lib.RoleResult) -> None:
    for finding in result.warnings:
        click.echo(f"Warning: {finding.message}. Fix: {finding.fix}.", err=True)


def _print_statements(result: lib.RoleResult) -> None:
    for statement in result.statements:
        click.echo(f"{statement};")
    if result.statements:
        click.echo(
            f"Dry run: {len(result.statements)} statement(s) would run in one "
            "transaction; nothing was changed.",
            err=True,
        )
    else:
        click.echo("Dry run: no changes needed.", err=True)


def _print_changes(result: lib.RoleResult) -> None:
    for change in result.changes:
        click.echo(f"  {change['action']}: {change['object']}")


def _print_url(url: str, password: str | None, generated: bool) -> None:
    if generated and password is not None:
        params = dict(parse(url))
        params["password"] = password
        click.echo(f"DATABASE_READ_ONLY_URL={make_url(params)}")
    else:
        click.echo(f"Read-only URL (no password): {url}")


@click.command()
@click.argument("role")
@database_url_option
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="Schema to make readable (repeatable). Default: every non-system schema.",
)
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="ROLE",
    help="Role whose future tables and sequences must stay readable (repeatable). "
    "Default: the connecting role plus the owners of existing objects.",
)
@password_options
@dry_run_option
@click.option(
    "--harden",
    is_flag=True,
    help="Also revoke TEMPORARY, CREATE on schemas and EXECUTE on SECURITY DEFINER "
    "functions from PUBLIC (re-granted to the owners), and PUBLIC's EXECUTE on "
    "every function the owners create from now on. Changes what every role may "
    "do in the database.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Make an existing role read-only even if it is a superuser or may write: "
    "its attributes, memberships and write privileges are taken away.",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(min=-1, max=lib.MAX_CONNECTION_LIMIT),
    metavar="N",
    help="Most concurrent connections for the role (-1: no limit).",
)
@click.option(
    "--valid-until",
    metavar="TIMESTAMP",
    help="When the role's password stops working, e.g. 2030-01-31.",
)
@click.option(
    "--statement-timeout",
    metavar="DURATION",
    help="statement_timeout for the role's sessions, e.g. 5min.",
)
@click.option(
    "--idle-in-transaction-timeout",
    metavar="DURATION",
    help="idle_in_transaction_session_timeout for the role's sessions, e.g. 10min.",
)
@templates_option
@json_option
@verbose_option
def provision(
    role: str,
    database_url: str | None,
    schemas: tuple[str, ...],
    owners: tuple[str, ...],
    password_stdin: bool,
    generate_password: bool,
    dry_run: bool,
    harden: bool,
    force: bool,
    connection_limit: int | None,
    valid_until: str | None,
    statement_timeout: str | None,
    idle_in_transaction_timeout: str | None,
    templates: Path | None,
    as_json: bool,
) -> None:
    """Create or update the read-only role ROLE.

    ROLE gets LOGIN and nothing else: CONNECT on the database, USAGE on the
    schemas, SELECT on their tables, views and sequences, default privileges so
    that future objects of each owner stay readable, and
    default_transaction_read_only = on. Everything runs in one transaction; a
    second run changes nothing. A new role needs a password: it is asked for
    (hidden), read with --password-stdin, or generated with --generate-password.
    An existing role keeps its password unless one of those is given.

    Without --harden the role can still create temporary tables (no persistent
    data) and, where PUBLIC may create in a schema (public in databases created
    before PostgreSQL 15), tables there once it turns its read-only default off:
    provision warns about both.

    \b
    Example:
      dbrole-switch provision app_ro --database-url postgresql://admin@db/app \\
          --generate-password --owner app_owner --harden
    """
    if as_json and generate_password:
        raise click.UsageError(_JSON_AND_GENERATE)

    url = resolve_database_url(database_url)
    password: str | None = None
    generated = False
    if password_stdin or generate_password:
        password, generated = read_password(
            f"Password for role {role}",
            from_stdin=password_stdin,
            generate=generate_password,
        )

    admin = AdminConnection(url)

    def run(password: str | None) -> lib.ProvisionResult:
        return admin.call(
            lambda target: lib.provision(
                target,
                role,
                password=password,
                schemas=schemas or None,
                owners=owners or None,
                harden=harden,
                dry_run=dry_run,
                force=force,
                connection_limit=connection_limit,
                valid_until=valid_until,
                statement_timeout=statement_timeout,
                idle_in_transaction_timeout=idle_in_transaction_timeout,
                templates=templates,
            )
        )

    with cli_errors():
        try:
            result = run(password)
        except lib.PasswordRequired:
            # Only a role that does not exist yet needs one: ask now rather than
            # for every run against an existing role.
            password, generated = read_password(f"Password for new role {role}")
            result = run(password)

    if as_json:
        emit_json(result.to_json())
        return

    _warn(result)
    if dry_run:
        _print_statements(result)
        return

    if not result.changed:
        click.echo(
            f"No changes: role {role} is already provisioned in database "
            f"{result.database}."
        )
    else:
        verb = "created" if result.created else "updated"
        click.echo(f"Role {role} {verb} in database {result.database}:")
        _print_changes(result)
    _print_url(result.read_only_url, password, generated)


@click.command()
@click.argument("role")
@database_url_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@dry_run_option
@templates_option
@json_option
@verbose_option
@click.pass_context
def drop(
    ctx: click.Context,
    role: str,
    database_url: str | None,
    yes: bool,
    dry_run: bool,
    templates: Path | None,
    as_json: bool,
) -> None:
    """Revoke everything ROLE holds in this database, then drop it.

    Table, sequence, function, schema and database privileges and default
    privileges naming ROLE are revoked in one transaction. The role itself is
    dropped only when no other database still references it; otherwise those
    databases are named (run drop there too, then here again) and the exit code
    is 1. Rerunning is always safe. Asks for confirmation unless --yes.

    \b
    Example:
      dbrole-switch drop app_ro --database-url postgresql://admin@db/app --yes
    """
    url = resolve_database_url(database_url)
    if not (yes or dry_run):
        if not has_terminal():
            raise click.ClickException(
                "no terminal to confirm the drop: pass --yes (or --dry-run to see "
                "what it would do)"
            )
        click.confirm(
            f"Revoke everything role {role} holds and drop it?", abort=True, err=True
        )

    with cli_errors():
        result = AdminConnection(url).call(
            lambda target: lib.drop(target, role, dry_run=dry_run, templates=templates)
        )

    if as_json:
        emit_json(result.to_json())
    elif dry_run:
        _print_statements(result)
    elif not result.existed:
        click.echo(f"No changes: role {role} does not exist.")
    else:
        done = "dropped" if result.dropped else "kept, its privileges revoked"
        click.echo(f"Role {role} {done} in database {result.database}:")
        _print_changes(result)

    if result.remaining_databases:
        where = (
            f"still holds privileges or owns objects in database(s) "
            f"{', '.join(result.remaining_databases)}: run dbrole-switch drop "
            "there, then here again"
        )
        if dry_run:
            click.echo(f"Note: role {role} would be kept: it {where}", err=True)
            return
        click.echo(f"Error: role {role} {where}", err=True)
        ctx.exit(1)


@click.command("rotate-password")
@click.argument("role")
@database_url_option
@password_options
@dry_run_option
@templates_option
@json_option
@verbose_option
def rotate_password(
    role: str,
    database_url: str | None,
    password_stdin: bool,
    generate_password: bool,
    dry_run: bool,
    templates: Path | None,
    as_json: bool,
) -> None:
    """Give the existing role ROLE a new password.

    The password is asked for (hidden, twice), read with --password-stdin, or
    generated with --generate-password (printed once, as the
    DATABASE_READ_ONLY_URL line). Only its SCRAM-SHA-256 verifier, computed
    here, reaches the server.

    \b
    Example:
      dbrole-switch rotate-password app_ro \\
          --database-url postgresql://admin@db/app --generate-password
    """
    if as_json and generate_password:
        raise click.UsageError(_JSON_AND_GENERATE)

    url = resolve_database_url(database_url)
    password, generated = read_password(
        f"New password for role {role}",
        from_stdin=password_stdin,
        generate=generate_password,
    )
    with cli_errors():
        result = AdminConnection(url).call(
            lambda target: lib.rotate_password(
                target, role, password, dry_run=dry_run, templates=templates
            )
        )

    if as_json:
        emit_json(result.to_json())
    elif dry_run:
        _print_statements(result)
    else:
        click.echo(f"Password of role {role} changed in database {result.database}.")
        _print_url(result.read_only_url, password, generated)


COMMANDS = [provision, drop, rotate_password]
