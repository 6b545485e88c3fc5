"""The one family of errors dbrole-switch raises.

Every message is a single line that says what went wrong and how to recover, and
never contains a password.
"""

from __future__ import annotations


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
