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
from psycopg import conninfo

from dbrole_switch.connection import describe
from dbrole_switch.errors import ConnectionFailed, DbroleSwitchError

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

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
        log = logging.getLogger("dbrole_switch")
        if value and not any(
            getattr(h, "dbrole_switch_cli", False) for h in log.handlers
        ):
            # The CLI is an application: it may configure the package logger,
            # once, however many commands run in this process.
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            handler.dbrole_switch_cli = True  # type: ignore[attr-defined]
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


def has_terminal() -> bool:
    """Whether a prompt can be shown; ``sys.stdin`` is None when stdin is closed."""
    return sys.stdin is not None and sys.stdin.isatty()


def read_password(
    prompt: str,
    *,
    from_stdin: bool = False,
    generate: bool = False,
    confirm: bool = True,
    alternatives: str = "--password-stdin or --generate-password",
) -> tuple[str, bool]:
    """Return ``(password, generated)`` from stdin, a generator, or a hidden prompt.

    Missing input (stdin closed or empty, no terminal for the prompt) is not a
    mistake in the command line: it is a one-line error with exit code 1 that
    names *alternatives*. Only conflicting flags are a usage error (exit 2)::

        password, generated = read_password("Password for app_ro", generate=True)
    """
    if from_stdin and generate:
        raise click.UsageError(
            "--password-stdin and --generate-password cannot be used together"
        )

    if generate:
        return generate_password(), True

    if from_stdin:
        if sys.stdin is None:
            raise click.ClickException(
                "standard input is closed, so --password-stdin has no password to read"
            )
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException(
                "--password-stdin: standard input gave no password"
            )
        return password, False

    if not has_terminal():
        raise click.ClickException(
            f"no terminal to ask for the password; use {alternatives}"
        )

    try:
        value = click.prompt(
            prompt, hide_input=True, confirmation_prompt=confirm, err=True
        )
    except click.Abort:
        raise click.ClickException("no password given") from None
    password = str(value)
    if not password:
        raise click.ClickException("the password cannot be empty")
    return password, False


class AdminConnection:
    """The admin connection string, completed with a prompted password if needed.

    The password is added in memory only, never to argv, and asked for once even
    when a command connects twice::

        report = AdminConnection(url).call(lambda target: verify(target, "app_ro"))
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def __repr__(self) -> str:
        return f"<AdminConnection {describe(self.url)}>"

    def call(self, func: Callable[[str], T]) -> T:
        try:
            return func(self.url)
        except ConnectionFailed as exc:
            # libpq's own wording when it had no password to send; a failure
            # before the server was asked anything has no SQLSTATE.
            if "no password supplied" not in str(exc):
                raise
            if not has_terminal():
                raise ConnectionFailed(
                    f"{exc}; with no terminal to ask for the admin password, set "
                    "PGPASSWORD or put it in ~/.pgpass"
                ) from None
        password = click.prompt(
            f"Password for {describe(self.url)}", hide_input=True, err=True
        )
        self.url = conninfo.make_conninfo(self.url, password=password)
        return func(self.url)


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
