"""Rules for the names of the roles dbrole-switch creates.

PostgreSQL would silently truncate a name over 63 bytes, and some names mean
something else in a role position (``PUBLIC``, ``CURRENT_USER``) or are reserved for
the server's own roles (``pg_*``). Those are refused up front with a message that
says why, instead of failing half way or acting on a different role.
"""

from __future__ import annotations

from dbrole_switch.errors import UsageError

#: PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated, not refused.
MAX_NAME_BYTES = 63

#: Words that name something other than an ordinary role where a role is expected.
RESERVED_NAMES = frozenset(
    {"public", "none", "all", "current_user", "current_role", "session_user"}
)


def check_role_name(name: str, *, what: str = "role") -> str:
    """Return *name*, or raise :class:`UsageError` saying why it cannot be used.

    Quotes, spaces, semicolons, upper case and non-ASCII letters are fine: names are
    always sent as quoted identifiers, so ``ro"; DROP TABLE x; --`` becomes a role
    of exactly that name. Example::

        check_role_name("app_ro")        # -> "app_ro"
        check_role_name("pg_monitor")    # UsageError: reserved prefix
    """
    if not name:
        raise UsageError(f"the {what} name cannot be empty")

    if any(not char.isprintable() for char in name):
        # Quoting makes such a name safe in SQL, but it would break every log line,
        # prompt and URL that shows it.
        raise UsageError(
            f"the {what} name {name!r} contains a control character: choose a name "
            "of printable characters"
        )

    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise UsageError(
            f"the {what} name is {size} bytes long; PostgreSQL allows at most "
            f"{MAX_NAME_BYTES} and would silently cut it: choose a shorter name"
        )

    if name.lower().startswith("pg_"):
        raise UsageError(
            f"the {what} name {name!r} starts with 'pg_', which PostgreSQL reserves "
            "for its own roles: choose another name"
        )

    if name.lower() in RESERVED_NAMES:
        raise UsageError(
            f"the {what} name {name!r} is reserved: in a role position it does not "
            "name an ordinary role; choose another name"
        )

    return name
