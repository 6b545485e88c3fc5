"""``dbrole-switch verify``: a thin layer over :func:`dbrole_switch.verify.verify`."""

from __future__ import annotations

import textwrap

import click

from dbrole_switch._clicommon import (
    AdminConnection,
    cli_errors,
    database_url_option,
    emit_json,
    json_option,
    read_password,
    verbose_option,
)
from dbrole_switch.connection import resolve_database_url
from dbrole_switch.verify import Finding, Report


@click.command()
@click.argument("role")
@database_url_option
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="Check that everything in this schema is readable (repeatable; default: "
    "every non-system schema). Write paths are looked for everywhere.",
)
@click.option(
    "--probe",
    is_flag=True,
    help="Also log in as ROLE and try each write in a transaction that is always "
    "rolled back; a write that gets through is an error. What the audit only "
    "warns about (temporary tables, large objects, advisory locks, logical "
    "messages) is listed when it gets through, not counted again.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="With --probe: read ROLE's password from the first line of standard input "
    "(default: a hidden prompt).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 on warnings and on checks that could not be run, not only on errors.",
)
@json_option
@verbose_option
def verify(
    role: str,
    database_url: str | None,
    schemas: tuple[str, ...],
    probe: bool,
    password_stdin: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Audit ROLE: it must read everything it should and be able to write nothing.

    Errors are paths to change data, schema or privileges (role attributes,
    memberships, write or grant privileges on tables, sequences, large objects,
    routines and types, CREATE on a schema or the database, SECURITY DEFINER
    functions, superuser-only built-ins and parameters granted to it, foreign
    servers, owned objects) and tables, views or sequences ROLE cannot read or
    a login it cannot make. Warnings change no data but are more than a reader
    needs (the read-only default missing, temporary tables, creating large
    objects, locks without a timeout, WAL messages). Each finding comes with its
    fix.

    Exit status: 0 clean, 1 errors (or, with --strict, warnings or checks the
    auditor could not run), 2 usage error.

    \b
    Example:
      dbrole-switch verify app_ro --database-url postgresql://admin@db/app --json
    """
    from dbrole_switch.verify import verify as run_verify

    if password_stdin and not probe:
        raise click.UsageError("--password-stdin is only used with --probe")

    password = None
    if probe:
        password, _ = read_password(
            f"Password of {role} (for --probe)",
            from_stdin=password_stdin,
            confirm=False,
            alternatives="--password-stdin",
        )

    with cli_errors():
        # Asks for the admin password on the terminal when libpq had none, as
        # the other commands do.
        report = AdminConnection(resolve_database_url(database_url)).call(
            lambda url: run_verify(
                url,
                role,
                schemas=list(schemas) or None,
                probe=probe,
                probe_password=password,
                strict=strict,
            )
        )

    if as_json:
        emit_json(report.to_json())
    else:
        _print_report(report)
    click.get_current_context().exit(report.exit_code)


# Prose is wrapped to fit a terminal; fixes are not, so they can be copied.
WIDTH = 80


def _echo_wrapped(text: str, indent: str = "", first: str | None = None) -> None:
    click.echo(
        textwrap.fill(
            text,
            WIDTH,
            initial_indent=indent if first is None else first,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def _print_report(report: Report) -> None:
    _echo_wrapped(
        f"Role {report.role} in database {report.database} "
        f"(PostgreSQL {report.server_version}, audited by {report.auditor}; "
        f"schemas: {', '.join(report.schemas) or 'none'})"
    )
    findings = [*report.errors, *report.warnings]
    if findings:
        width = max(len(f.code) for f in findings)
        click.echo(f"\n{'SEVERITY':<8}  {'CHECK':<{width}}  SUBJECT")
        for finding in findings:
            _print_finding(finding, width)
    for item in report.not_checked:
        click.echo()
        _echo_wrapped(f"NOT CHECKED  {item.check}: {item.reason}", "    ", "")
    for note in report.notes:
        click.echo()
        _echo_wrapped(f"Note: {note.message}")
    if report.probe is not None:
        permitted = [a for a in report.probe if a.outcome == "permitted"]
        unknown = [a for a in report.probe if a.outcome == "not checked"]
        click.echo()
        _echo_wrapped(
            f"Probe: {len(report.probe)} write(s) tried as {report.role}, "
            f"{len(permitted)} got through, {len(unknown)} undecided; all rolled back."
        )
        for attempt in permitted + unknown:
            state = f" (SQLSTATE {attempt.sqlstate})" if attempt.sqlstate else ""
            click.echo(
                f"  {attempt.outcome}: {attempt.action} {attempt.subject}{state}"
            )

    verdict = "OK" if report.ok else "FAILED"
    click.echo()
    _echo_wrapped(
        f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} "
        f"warning(s), {len(report.not_checked)} not checked "
        f"({report.queries} catalog queries, {report.seconds:.2f} s)"
    )


def _print_finding(finding: Finding, width: int) -> None:
    click.echo(f"{finding.severity:<8}  {finding.code:<{width}}  {finding.subject}")
    _echo_wrapped(finding.message, "    ")
    for number, line in enumerate(finding.fix.splitlines()):
        click.echo(f"    {'fix: ' if number == 0 else '     '}{line}")


COMMANDS = [verify]
