"""Options and helpers shared by every ``dbrole-switch`` command.

The click layer stays thin: it parses, calls a library function, and formats.
Library errors become :class:`click.ClickException` here (exit 1); click's own
usage errors exit 2.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import click

from dbrole_switch.errors import DbroleSwitchError

F = TypeVar("F", bound=Callable[..., Any])

GENERATED_PASSWORD_BYTES = 24


def database_url_option(func: F) -> F:
    """``--database-url``; falls back to ``DATABASE_URL``, then libpq's ``PG*``."""
    return click.option(
        "--database-url",
        metavar="URL",
        default=None,
        help="Admin connection, e.g. postgresql://admin@db:5432/app. "
        "Default: $DATABASE_URL, then libpq's PG* variables. "
        "Leave the password out: it is asked for, or read from "
        "PGPASSWORD or ~/.pgpass.",
    )(func)


def json_option(func: F) -> F:
    """``--json``: one JSON document on stdout instead of text."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document with stable keys and no secrets.",
    )(func)


def verbose_option(func: F) -> F:
    """``-v``: log each statement (passwords masked) on stderr."""

    def callback(ctx: click.Context, param: click.Parameter, value: int) -> int:
        if value:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            log = logging.getLogger("dbrole_switch")
            log.addHandler(handler)
            log.setLevel(logging.DEBUG)
        return value

    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=callback,
        help="Show each statement sent (passwords masked) on stderr.",
    )(func)


def password_options(func: F) -> F:
    """``--password-stdin`` and ``--generate-password``: never a password value."""
    func = click.option(
        "--generate-password",
        is_flag=True,
        help="Generate a strong password and print it once, on stdout.",
    )(func)
    return click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input.",
    )(func)


def generate_password() -> str:
    """A random password that is safe in URLs and shells."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def read_password(
    prompt: str,
    *,
    from_stdin: bool = False,
    generate: bool = False,
    confirm: bool = True,
) -> tuple[str, bool]:
    """Return ``(password, generated)`` from stdin, a generator, or a hidden prompt.

    Raises :class:`click.UsageError` when stdin is closed, empty, or not a terminal
    for a prompt.
    """
    if from_stdin and generate:
        raise click.UsageError(
            "--password-stdin and --generate-password cannot be used together"
        )

    if generate:
        return generate_password(), True

    if from_stdin:
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input gave no password")
        return password, False

    if not sys.stdin.isatty():
        raise click.UsageError(
            "no terminal to ask for the password; "
            "use --password-stdin or --generate-password"
        )

    try:
        value = click.prompt(
            prompt, hide_input=True, confirmation_prompt=confirm, err=True
        )
    except click.Abort:
        raise click.UsageError("no password given") from None
    password = str(value)
    if not password:
        raise click.UsageError("the password cannot be empty")
    return password, False


def emit_json(document: Mapping[str, Any]) -> None:
    """Print *document* as the single JSON document of this command."""
    click.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn our errors into one-line ``Error: ...`` messages with exit code 1."""
    try:
        yield
    except DbroleSwitchError as exc:
        raise click.ClickException(str(exc)) from None
