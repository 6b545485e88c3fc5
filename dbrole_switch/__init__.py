"""A read-only mode for Django on PostgreSQL that the database enforces.

Importing this package is cheap: it imports neither psycopg nor click. The public
names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DbroleSwitchError",
    "ReadOnlyError",
    "__version__",
    "configure_databases",
    "disable_writes",
    "enable_writes",
    "temp_writes",
    "writes_enabled",
]

if TYPE_CHECKING:
    from dbrole_switch.errors import DbroleSwitchError
    from dbrole_switch.settings import configure_databases
    from dbrole_switch.switch import (
        ReadOnlyError,
        disable_writes,
        enable_writes,
        temp_writes,
        writes_enabled,
    )

_LAZY = {
    "DbroleSwitchError": "dbrole_switch.errors",
    "configure_databases": "dbrole_switch.settings",
    "ReadOnlyError": "dbrole_switch.switch",
    "enable_writes": "dbrole_switch.switch",
    "disable_writes": "dbrole_switch.switch",
    "temp_writes": "dbrole_switch.switch",
    "writes_enabled": "dbrole_switch.switch",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbrole_switch' has no attribute {name!r}")

    import importlib

    return getattr(importlib.import_module(module), name)
