"""System checks (``manage.py check``) for settings the switch cannot work with.

- ``dbrole_switch.W001``: django-read-only is installed; its in-process guard
  reads the same ``DJANGO_READ_ONLY`` variable and keeps blocking writes after
  ``enable_writes()``.
- ``dbrole_switch.E001``: read-only mode is on but an alias was not set up by
  ``configure_databases()``, so it still connects with its privileged role.
- ``dbrole_switch.E002``: ``DBROLE_SWITCH_PASSWORD_PROVIDER`` is not a callable or
  the dotted path of one.
- ``dbrole_switch.E003``: ``DBROLE_SWITCH_LAPSE`` is not seconds, a timedelta or
  None.
- ``dbrole_switch.E004``: ``DJANGO_READ_ONLY`` has a value that is neither on nor off.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from dbrole_switch import settings as dbrole_settings
from dbrole_switch.errors import ConfigurationError, DbroleSwitchError
from dbrole_switch.settings import (
    READ_ONLY_VARIABLE,
    SETTINGS_KEY,
    read_only_from_environment,
)


@register(Tags.compatibility)
def check_django_read_only(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    installed = getattr(settings, "INSTALLED_APPS", [])
    if not any(
        app == "django_read_only" or app.startswith("django_read_only.")
        for app in installed
    ):
        return []

    return [
        Warning(
            "django-read-only is installed alongside dbrole-switch.",
            hint=(
                f"Its guard reads {READ_ONLY_VARIABLE} too and keeps refusing writes "
                "after dbrole_switch.enable_writes(); remove 'django_read_only' from "
                "INSTALLED_APPS and let the database enforce read-only mode."
            ),
            id="dbrole_switch.W001",
        )
    ]


@register()
def check_databases(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        read_only = read_only_from_environment()
    except ConfigurationError as exc:
        return [Error(str(exc), id="dbrole_switch.E004")]

    if dbrole_settings.last_decision is not None:
        # configure_databases() ran; an explicit read_only= argument wins.
        read_only = dbrole_settings.last_decision

    configured = [
        alias
        for alias, settings_dict in settings.DATABASES.items()
        if SETTINGS_KEY in settings_dict
    ]
    if not read_only or configured:
        return []

    return [
        Error(
            f"{READ_ONLY_VARIABLE} is on but DATABASES was not set up by "
            "dbrole_switch.configure_databases(): every alias still connects with "
            "its privileged role.",
            hint="DATABASES = dbrole_switch.configure_databases({...}) in settings.py.",
            id="dbrole_switch.E001",
        )
    ]


@register()
def check_switch_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    provider = getattr(settings, "DBROLE_SWITCH_PASSWORD_PROVIDER", None)
    if isinstance(provider, str):
        from django.utils.module_loading import import_string

        try:
            provider = import_string(provider)
        except ImportError as exc:
            messages.append(
                Error(
                    f"DBROLE_SWITCH_PASSWORD_PROVIDER cannot be imported: {exc}",
                    id="dbrole_switch.E002",
                )
            )
            provider = None
    if provider is not None and not callable(provider):
        messages.append(
            Error(
                "DBROLE_SWITCH_PASSWORD_PROVIDER is not callable.",
                hint="Give a function taking a PasswordRequest, or its dotted path.",
                id="dbrole_switch.E002",
            )
        )

    if hasattr(settings, "DBROLE_SWITCH_LAPSE"):
        from dbrole_switch.switch import _lapse_seconds

        try:
            _lapse_seconds(settings.DBROLE_SWITCH_LAPSE)
        except DbroleSwitchError as exc:
            messages.append(Error(str(exc), id="dbrole_switch.E003"))
    return messages
