"""ENGINE = "dbrole_switch.backends.postgis": see dbrole_switch.backends.base."""

from __future__ import annotations

from django.contrib.gis.db.backends.postgis import base

from dbrole_switch.backends.base import SwitchMixin


class DatabaseWrapper(SwitchMixin, base.DatabaseWrapper):
    """Django's PostGIS wrapper, connecting as the role the switch says."""
