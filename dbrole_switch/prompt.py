"""The hidden password prompt used when writes are enabled.

It asks on the controlling terminal, naming the role, database and host, so that
a password typed in is never echoed or logged. With no terminal (a cron job, a
container without ``-t``), it fails at once rather than waiting for input that
will never come.
"""

from __future__ import annotations

import getpass
import os
import sys

from dbrole_switch.errors import EscalationError, NoTerminalError


def has_terminal() -> bool:
    """True when a password can be asked for without echo."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        stdin = sys.stdin
        return stdin is not None and stdin.isatty()

    os.close(fd)
    return True


def ask_password(
    *,
    role: str,
    dbname: str,
    host: str,
    port: str | int | None = None,
    alias: str | None = None,
) -> str:
    """Ask for *role*'s password on the terminal, without echo.

    Raises :class:`NoTerminalError` at once when there is no terminal; Ctrl-C
    raises ``KeyboardInterrupt`` as usual::

        password = ask_password(role="app", dbname="shop", host="db.internal")
    """
    where = f"{host or 'localhost'}:{port}" if port else (host or "localhost")
    purpose = f" to enable writes on alias {alias!r}" if alias else ""
    if not has_terminal():
        raise NoTerminalError(
            f"the password of role {role!r} on database {dbname!r} at {where} is "
            f"needed{purpose}, but there is no terminal to ask on: pass "
            "enable_writes(password=...) or set DBROLE_SWITCH_PASSWORD_PROVIDER"
        )

    try:
        password = getpass.getpass(
            f"Password for role {role!r} on database {dbname!r} at {where}{purpose}: "
        )
    except (KeyboardInterrupt, EOFError):
        # getpass ends the prompt's line only when a password was entered; end it
        # here so whatever the shell prints next starts on a line of its own.
        print(file=sys.stderr)
        raise
    if not password:
        raise EscalationError("no password entered; writes stay disabled")
    return password
