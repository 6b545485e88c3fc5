"""The one family of errors dbrole-switch raises.

Every message is a single line that says what went wrong and how to recover, and
never contains a password.
"""

from __future__ import annotations

import re


class DbroleSwitchError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(DbroleSwitchError):
    """Settings or environment variables that cannot be used as given."""


class ConnectionFailed(DbroleSwitchError):
    """The server could not be reached, or refused the credentials."""


class UsageError(DbroleSwitchError):
    """Arguments that cannot work together, or name something that does not exist."""


class EscalationError(DbroleSwitchError):
    """Writes could not be enabled; the process stays read-only, nothing changed."""


class NoTerminalError(EscalationError):
    """A password is needed, none was given, and there is no terminal to ask on."""


def libpq_reason(message: str) -> str:
    """The part of a libpq connection error a user can act on, on one line.

    libpq repeats the address (which our messages already name), prefixes
    ``FATAL:`` and adds a second line of advice. Works for psycopg and psycopg2
    alike, since both pass libpq's text through; it never holds the password::

        >>> libpq_reason('connection to server at "h", port 1 failed: FATAL:  no')
        'no'
    """
    first = message.strip().split("\n", 1)[0]
    first = first.removeprefix("connection failed: ")
    first = re.sub(r"^connection to server (at|on) .*? failed: ", "", first)
    return first.replace("FATAL:", "").strip() or "connection failed"
