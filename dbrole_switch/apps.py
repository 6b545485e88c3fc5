"""The Django app: add ``"dbrole_switch"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from django.apps import AppConfig


class DbroleSwitchConfig(AppConfig):
    name = "dbrole_switch"
    verbose_name = "dbrole-switch"

    def ready(self) -> None:
        # Registers the system checks, and the reset of the switch's state when a
        # test overrides DATABASES.
        from dbrole_switch import checks, switch  # noqa: F401
