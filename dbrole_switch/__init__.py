"""A read-only mode for Django on PostgreSQL that the database enforces.

Importing this package is cheap: it imports neither psycopg nor click. The public
names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DbroleSwitchError",
    "__version__",
]

if TYPE_CHECKING:
    from dbrole_switch.errors import DbroleSwitchError

_LAZY = {
    "DbroleSwitchError": "dbrole_switch.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbrole_switch' has no attribute {name!r}")

    import importlib

    return getattr(importlib.import_module(module), name)
