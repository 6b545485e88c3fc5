"""The settings helper: point each alias at its read-only role when asked to.

``configure_databases()`` runs inside a project's ``settings.py``, before Django is
set up, so this module imports neither psycopg nor ``django.db``::

    import dj_database_url
    import dbrole_switch

    DATABASES = dbrole_switch.configure_databases({"default": dj_database_url.config()})

In read-only mode each alias keeps its engine options, but connects with the
read-only role's credentials through dbrole-switch's backend (a thin subclass of
Django's PostgreSQL or PostGIS backend). The privileged settings are remembered
under the alias's ``"DBROLE_SWITCH"`` key, without the password: escalation asks
for it.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dbrole_switch.errors import ConfigurationError

READ_ONLY_VARIABLE = "DJANGO_READ_ONLY"
READ_ONLY_URL_VARIABLE = "DATABASE_READ_ONLY_URL"
SETTINGS_KEY = "DBROLE_SWITCH"
READ_ONLY_APPLICATION_NAME = "dbrole-switch read-only"

TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("", "0", "false", "no", "off")

# Django engine -> the dbrole-switch backend that wraps it.
ENGINES = {
    "django.db.backends.postgresql": "dbrole_switch.backends.postgresql",
    "django.db.backends.postgresql_psycopg2": "dbrole_switch.backends.postgresql",
    "django.contrib.gis.db.backends.postgis": "dbrole_switch.backends.postgis",
}
WRAPPED_ENGINES = frozenset(ENGINES.values())
SUPPORTED = ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")

# What the latest configure_databases() call decided, so the system check can tell
# "settings chose normal mode" (e.g. read_only=False for a one-off process) from
# "settings never called us"; each call overwrites it.
last_decision: bool | None = None

_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def read_only_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Return what ``DJANGO_READ_ONLY`` asks for; any unknown value is an error.

    >>> read_only_from_environment({"DJANGO_READ_ONLY": "Yes"})
    True
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(READ_ONLY_VARIABLE, "")
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True

    if value in FALSE_VALUES:
        return False

    raise ConfigurationError(
        f"{READ_ONLY_VARIABLE}={raw!r} is not understood: use "
        f"{', '.join(TRUE_VALUES)} for read-only mode, or "
        f"{', '.join(repr(v) for v in FALSE_VALUES)} (or unset) for normal mode"
    )


def read_only_url_variable(alias: str) -> str:
    """Return the environment variable holding *alias*'s read-only URL.

    >>> read_only_url_variable("default"), read_only_url_variable("reports-eu")
    ('DATABASE_READ_ONLY_URL', 'DATABASE_READ_ONLY_URL_REPORTS_EU')
    """
    if alias == "default":
        return READ_ONLY_URL_VARIABLE

    return f"{READ_ONLY_URL_VARIABLE}_{re.sub(r'[^0-9A-Za-z]', '_', alias).upper()}"


def configure_databases(
    databases: Mapping[str, Mapping[str, Any]],
    read_only: bool | None = None,
    read_only_urls: Mapping[str, str | Mapping[str, Any]] | None = None,
    exempt: Iterable[str] = (),
    replicas: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Return *databases*, pointed at the read-only roles when in read-only mode.

    *read_only* wins over ``DJANGO_READ_ONLY``. *read_only_urls* maps an alias to a
    URL (or a settings dict); by default ``DATABASE_READ_ONLY_URL`` (``default``)
    and ``DATABASE_READ_ONLY_URL_<ALIAS>`` are read. An alias in *exempt* is left as
    it is; an alias in *replicas* may read from another server than the one it
    writes to. In normal mode *databases* is returned unchanged::

        DATABASES = configure_databases(
            {"default": dj_database_url.config()},
            exempt=["analytics"],
        )
    """
    global last_decision

    if read_only is None:
        read_only = read_only_from_environment()
    last_decision = read_only
    if not read_only:
        if isinstance(databases, dict):
            return databases
        return {alias: dict(value) for alias, value in databases.items()}

    exempt = set(exempt)
    replicas = set(replicas)
    explicit_urls = dict(read_only_urls or {})
    for what, names in (
        ("exempt", exempt),
        ("replicas", replicas),
        ("read_only_urls", set(explicit_urls)),
    ):
        unknown = sorted(names - set(databases))
        if unknown:
            raise ConfigurationError(
                f"configure_databases({what}=...) names {', '.join(map(repr, unknown))}"
                f", which is not in DATABASES ({', '.join(map(repr, databases))})"
            )

    configured: dict[str, dict[str, Any]] = {}
    for alias, privileged in databases.items():
        if alias in exempt:
            configured[alias] = copy.deepcopy(dict(privileged))
            configured[alias][SETTINGS_KEY] = {"EXEMPT": True}
            continue

        if alias in explicit_urls:
            source = f"configure_databases(read_only_urls={{{alias!r}: ...}})"
            given: str | Mapping[str, Any] | None = explicit_urls[alias]
        else:
            source = read_only_url_variable(alias)
            given = os.environ.get(source) or None
        configured[alias] = _read_only_settings(
            alias, dict(privileged), given, source, replica=alias in replicas
        )
    return configured


def _read_only_settings(
    alias: str,
    privileged: dict[str, Any],
    given: str | Mapping[str, Any] | None,
    source: str,
    *,
    replica: bool,
) -> dict[str, Any]:
    engine = privileged.get("ENGINE", "")
    if engine in WRAPPED_ENGINES:
        raise ConfigurationError(
            f"DATABASES[{alias!r}] already uses {engine}: call configure_databases() "
            "once, on the settings as dj_database_url returns them"
        )

    if engine not in ENGINES:
        hint = (
            "DATABASE_URL may be unset"
            if not privileged
            else f"its ENGINE is {engine or '(empty)'!r}"
        )
        raise ConfigurationError(
            f"{READ_ONLY_VARIABLE} is on but DATABASES[{alias!r}] is not a PostgreSQL "
            f"database ({hint}); dbrole-switch supports {', '.join(SUPPORTED)}; "
            f"pass exempt=[{alias!r}] to configure_databases() to leave it as it is"
        )

    if not privileged.get("USER"):
        raise ConfigurationError(
            f"{READ_ONLY_VARIABLE} is on but DATABASES[{alias!r}] has no USER: name "
            "the privileged role in its URL or settings, so that enable_writes() "
            "can ask for its password and check who logged in"
        )

    if given is None:
        raise ConfigurationError(
            f"{READ_ONLY_VARIABLE} is on but {source} is not set: alias {alias!r} has "
            "no read-only credentials (set it to the read-only role's URL, or pass "
            f"exempt=[{alias!r}] to configure_databases() for a replica that is "
            "read-only by itself)"
        )

    read_only = _parse(given, source)
    if not read_only.get("USER"):
        raise ConfigurationError(f"{source} has no user name: name the read-only role")

    for key in ("HOST", "PORT", "NAME"):
        if not read_only.get(key):
            read_only[key] = privileged.get(key, "")

    if read_only["USER"] == privileged.get("USER"):
        raise ConfigurationError(
            f"{source} uses the role {read_only['USER']!r}, the same as the privileged "
            f"settings of alias {alias!r}: name the read-only role instead"
        )

    if not replica and not _same_database(read_only, privileged):
        raise ConfigurationError(
            f"{source} points at {_where(read_only)} but alias {alias!r} writes to "
            f"{_where(privileged)}; if that is a replica of it, pass "
            f"replicas=[{alias!r}] to configure_databases()"
        )

    options = dict(privileged.get("OPTIONS") or {})
    if "assume_role" in options:
        # The read-only role would SET ROLE to it (and fail), and an escalated
        # session would no longer be the role whose password was checked.
        raise ConfigurationError(
            f"DATABASES[{alias!r}]['OPTIONS']['assume_role'] cannot be used in "
            f"read-only mode ({READ_ONLY_VARIABLE} is on): log in as the role itself"
        )

    privileged_options = {k: v for k, v in options.items() if k != "password"}
    options.pop("password", None)
    options.update(read_only.get("OPTIONS") or {})
    options["application_name"] = _application_name(options.get("application_name"))

    remembered = {
        "ENGINE": engine,
        "USER": privileged.get("USER", ""),
        "HOST": privileged.get("HOST", ""),
        "PORT": privileged.get("PORT", ""),
        "NAME": privileged.get("NAME", ""),
        "OPTIONS": privileged_options,
        "READ_ONLY_SOURCE": source,
        "REPLICA": replica,
    }
    result = copy.deepcopy({k: v for k, v in privileged.items() if k != "PASSWORD"})
    result.update(
        ENGINE=ENGINES[engine],
        USER=read_only["USER"],
        PASSWORD=read_only.get("PASSWORD", ""),
        HOST=read_only["HOST"],
        PORT=read_only["PORT"],
        NAME=read_only["NAME"],
        OPTIONS=options,
    )
    result[SETTINGS_KEY] = remembered
    return result


def _parse(given: str | Mapping[str, Any], source: str) -> dict[str, Any]:
    if not isinstance(given, str):
        return copy.deepcopy(dict(given))

    import dj_database_url

    try:
        parsed = dj_database_url.parse(given)
    except Exception as exc:
        # dj_database_url's messages may quote the URL, password included.
        kind = type(exc).__name__
        raise ConfigurationError(
            f"{source} cannot be parsed ({kind}); expected "
            "postgresql://ROLE:PASSWORD@HOST:PORT/DBNAME"
        ) from None

    if parsed.get("ENGINE") not in ENGINES:
        raise ConfigurationError(
            f"{source} is not a PostgreSQL URL; expected "
            "postgresql://ROLE:PASSWORD@HOST:PORT/DBNAME"
        )
    return dict(parsed)


def _application_name(base: str | None) -> str:
    # Our marker goes first: the server cuts application_name at 63 bytes.
    if base:
        return f"{READ_ONLY_APPLICATION_NAME}: {base}"
    return READ_ONLY_APPLICATION_NAME


def _host(settings: Mapping[str, Any]) -> str:
    host = str(settings.get("HOST") or "")
    return "" if host in _LOCAL_HOSTS or host.startswith("/") else host


def _port(settings: Mapping[str, Any]) -> str:
    return str(settings.get("PORT") or "5432")


def _same_database(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (_host(a), _port(a), a.get("NAME")) == (_host(b), _port(b), b.get("NAME"))


def _where(settings: Mapping[str, Any]) -> str:
    host = settings.get("HOST") or "localhost"
    return f"{settings.get('NAME') or '(no name)'} on {host}:{_port(settings)}"
