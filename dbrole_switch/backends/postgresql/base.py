"""ENGINE = "dbrole_switch.backends.postgresql": see dbrole_switch.backends.base."""

from __future__ import annotations

from django.db.backends.postgresql import base

from dbrole_switch.backends.base import SwitchMixin


class DatabaseWrapper(SwitchMixin, base.DatabaseWrapper):
    """Django's PostgreSQL wrapper, connecting as the role the switch says."""
