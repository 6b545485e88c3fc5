"""The ``dbrole-switch`` command line: a thin click layer over the library."""

from __future__ import annotations

import click

from dbrole_switch import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbrole-switch")
def main() -> None:
    """Provision, audit and remove read-only PostgreSQL roles for Django.

    \b
    Example:
      dbrole-switch provision app_ro --database-url postgresql://admin@db/app
    """


def _register() -> None:
    # Each command family lives in its own module, imported here rather than by
    # ``import dbrole_switch``, which must stay free of click and psycopg.
    from dbrole_switch import cli_demo, cli_role, cli_verify

    for module in (cli_role, cli_verify, cli_demo):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
