"""``dbrole-switch demo``: the click layer over :mod:`dbrole_switch.demo`."""

from __future__ import annotations

import click

from dbrole_switch._clicommon import cli_errors, emit_json, json_option, verbose_option
from dbrole_switch.connection import resolve_database_url
from dbrole_switch.demo import DemoResult, KeptServer, Step, run_demo


def _echo_step(step: Step) -> None:
    mark = (
        click.style("PASS", fg="green", bold=True)
        if step.ok
        else click.style("FAIL", fg="red", bold=True)
    )
    click.echo(f"{mark}  {step.title}  ({step.seconds:.1f}s)")
    for line in step.details:
        click.echo(f"      {line}")


def _echo_kept(kept: KeptServer) -> None:
    click.echo()
    click.echo("The server is still running:")
    click.echo(f"  DATABASE_URL={kept.database_url}")
    click.echo(f"  DATABASE_READ_ONLY_URL={kept.read_only_url}")
    click.echo(f"  password of the privileged role: {kept.privileged_password}")
    if kept.admin_url:
        click.echo(f"  superuser, for provision, verify and drop: {kept.admin_url}")
    click.echo()
    click.echo("Open a read-only shell (enable_writes() asks for that password):")
    click.echo(f"  {kept.shell_command}")
    click.echo()
    click.echo("Remove it all when done:")
    click.echo(f"  {kept.stop_command}")


def _echo_verdict(result: DemoResult) -> None:
    failed = [step for step in result.steps if not step.ok]
    if failed:
        click.echo(
            click.style(
                f"{len(failed)} of {len(result.steps)} steps failed "
                f"({', '.join(step.name for step in failed)}).",
                fg="red",
            )
        )
    else:
        click.echo(f"All {len(result.steps)} steps passed in {result.seconds:.1f}s.")


@click.command()
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="Use this server instead of a throwaway one (default: $DATABASE_URL). "
    "The role needs CREATEDB and CREATEROLE; the demo works in a new database "
    "and drops it and its roles at the end.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the server, database and roles in place, and print the two URLs "
    "and the command that opens a read-only shell on them.",
)
@json_option
@verbose_option
def demo(database_url: str | None, keep: bool, as_json: bool) -> None:
    """Show the whole job end to end on a real server, then clean up.

    Starts PostgreSQL in a temporary directory (or uses DATABASE_URL),
    migrates the example Django project as a privileged role, provisions a
    read-only role, then, in a Django process with DJANGO_READ_ONLY=1: reads,
    has a write refused, escalates with enable_writes(), writes, de-escalates
    and has a write refused again. Ends with verify's verdict. Each step is
    printed as it happens; the exit code is 0 only if every step behaved.

    \b
    Examples:
      dbrole-switch demo
      dbrole-switch demo --keep
      DATABASE_URL=postgresql://admin@db:5432/postgres dbrole-switch demo
    """
    if keep and as_json:
        raise click.UsageError(
            "--keep and --json cannot be used together: the JSON document never "
            "holds a secret, and a kept server is no use without its passwords"
        )

    with cli_errors():
        result = run_demo(
            resolve_database_url(database_url),
            keep=keep,
            on_step=None if as_json else _echo_step,
        )

    if as_json:
        emit_json(result.to_json())
    else:
        _echo_verdict(result)
        if result.kept is not None:
            _echo_kept(result.kept)
    click.get_current_context().exit(result.exit_code)


COMMANDS = [demo]
