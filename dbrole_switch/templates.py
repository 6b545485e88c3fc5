"""SQL templates shipped as package data, turned into :class:`psycopg.sql.SQL`.

This is the only place where text becomes ``sql.SQL``: templates are files we ship
(or a directory an operator points ``--templates`` at), never user input. Names and
values are filled in with ``sql.Identifier`` and ``sql.Literal`` by the caller.

Each template starts with a ``--`` comment header naming its placeholders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from psycopg import sql

from dbrole_switch.errors import UsageError


def read_text(name: str, directory: str | Path | None = None) -> str:
    """Return the raw text of template *name* (e.g. ``"provision/create_role.sql"``).

    With *directory*, the file is read from there instead of the package, so an
    organisation can ship its own policy::

        read_text("provision/grant.sql", "/etc/dbrole-switch/sql")
    """
    if directory is not None:
        path = Path(directory) / name
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read template {name!r} from {directory}: {exc.strerror}; "
                "copy it from the package's sql/ directory"
            ) from None

    resource = resources.files("dbrole_switch").joinpath("sql", *name.split("/"))
    return resource.read_text(encoding="utf-8")


def load(name: str, directory: str | Path | None = None) -> sql.SQL:
    """Return template *name* as ``sql.SQL`` without its ``--`` header.

    The header is dropped before anything is filled in: a placeholder inside a
    ``--`` comment would end the comment at any newline in the value::

        load("provision/grant_usage.sql").format(schema=..., role=...)
    """
    lines = read_text(name, directory).splitlines(keepends=True)
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return sql.SQL("".join(lines).strip())


def render(
    name: str, directory: str | Path | None = None, /, **params: sql.Composable
) -> sql.Composed:
    """Load template *name* and fill its placeholders.

    Example::

        render("provision/create_role.sql", role=sql.Identifier("app_ro"))
    """
    return load(name, directory).format(**params)
