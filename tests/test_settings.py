"""configure_databases(): what settings.py gets back, and every configuration error."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from dbrole_switch.errors import ConfigurationError
from dbrole_switch.settings import (
    configure_databases,
    read_only_from_environment,
    read_only_url_variable,
)

PRIVILEGED_PASSWORD = "app-secret"  # noqa: S105
PRIVILEGED = "postgresql://app:app-secret@db.internal:5432/shop"
READ_ONLY = "postgresql://shop_ro:ro-secret@db.internal:5432/shop"


def privileged(url: str = PRIVILEGED, **extra: Any) -> dict[str, Any]:
    import dj_database_url

    return {**dj_database_url.parse(url), **extra}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DJANGO_READ_ONLY", "DATABASE_READ_ONLY_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "On", " on "])
def test_values_that_turn_read_only_mode_on(value: str) -> None:
    assert read_only_from_environment({"DJANGO_READ_ONLY": value}) is True


@pytest.mark.parametrize("value", ["", "0", "false", "No", "OFF"])
def test_values_that_leave_it_off(value: str) -> None:
    assert read_only_from_environment({"DJANGO_READ_ONLY": value}) is False
    assert read_only_from_environment({}) is False


@pytest.mark.parametrize("value", ["2", "y", "enabled", "maybe", "tru"])
def test_any_other_value_is_an_error_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_READ_ONLY", value)
    databases = {"default": privileged()}

    with pytest.raises(ConfigurationError) as caught:
        configure_databases(databases)

    message = str(caught.value)
    assert f"DJANGO_READ_ONLY={value!r}" in message
    assert "true" in message and "off" in message


def test_normal_mode_returns_the_settings_untouched() -> None:
    databases = {"default": privileged()}

    assert configure_databases(databases) is databases
    assert configure_databases(databases, read_only=False) is databases
    assert databases["default"]["PASSWORD"] == PRIVILEGED_PASSWORD


def test_read_only_mode_connects_with_the_read_only_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DJANGO_READ_ONLY", "1")
    monkeypatch.setenv("DATABASE_READ_ONLY_URL", READ_ONLY + "?sslmode=require")
    original = privileged(CONN_MAX_AGE=60, OPTIONS={"connect_timeout": 5})

    result = configure_databases({"default": original})["default"]

    assert result["ENGINE"] == "dbrole_switch.backends.postgresql"
    assert (result["USER"], result["PASSWORD"]) == ("shop_ro", "ro-secret")
    assert (result["HOST"], result["NAME"], result["CONN_MAX_AGE"]) == (
        "db.internal",
        "shop",
        60,
    )
    assert result["OPTIONS"] == {
        "connect_timeout": 5,
        "sslmode": "require",
        "application_name": "dbrole-switch read-only",
    }
    remembered = result["DBROLE_SWITCH"]
    assert (remembered["USER"], remembered["HOST"], remembered["NAME"]) == (
        "app",
        "db.internal",
        "shop",
    )
    assert "app-secret" not in repr(result)
    assert original["PASSWORD"] == PRIVILEGED_PASSWORD, "the input was changed"


def test_the_argument_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_READ_ONLY", "0")
    databases = {"default": privileged()}

    result = configure_databases(
        databases, read_only=True, read_only_urls={"default": READ_ONLY}
    )

    assert result["default"]["USER"] == "shop_ro"
    monkeypatch.setenv("DJANGO_READ_ONLY", "1")
    assert configure_databases(databases, read_only=False) is databases


def test_each_alias_has_a_variable_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_READ_ONLY_URL", READ_ONLY)
    monkeypatch.setenv(
        "DATABASE_READ_ONLY_URL_REPORTS_EU",
        "postgresql://rep_ro:x@db.internal:5432/reports",
    )
    databases = {
        "default": privileged(),
        "reports-eu": privileged("postgresql://rep:y@db.internal:5432/reports"),
    }

    result = configure_databases(databases, read_only=True)

    assert read_only_url_variable("reports-eu") == "DATABASE_READ_ONLY_URL_REPORTS_EU"
    assert result["reports-eu"]["USER"] == "rep_ro"


def test_a_missing_read_only_url_fails_closed_naming_the_variable() -> None:
    databases = {"default": privileged(), "other": privileged()}

    with pytest.raises(ConfigurationError, match="DATABASE_READ_ONLY_URL_OTHER"):
        configure_databases(
            databases, read_only=True, read_only_urls={"default": READ_ONLY}
        )


def test_an_exempt_alias_is_left_as_it_is() -> None:
    databases = {
        "default": privileged(),
        "replica": privileged("postgresql://app:app-secret@replica.internal/shop"),
    }

    result = configure_databases(
        databases,
        read_only=True,
        read_only_urls={"default": READ_ONLY},
        exempt=["replica"],
    )

    assert result["replica"]["ENGINE"] == "django.db.backends.postgresql"
    assert result["replica"]["USER"] == "app"
    assert result["replica"]["DBROLE_SWITCH"] == {"EXEMPT": True}


def test_a_read_only_url_to_another_database_must_be_declared_a_replica() -> None:
    databases = {"default": privileged()}
    elsewhere = "postgresql://shop_ro:x@replica.internal:5432/shop"

    with pytest.raises(ConfigurationError) as caught:
        configure_databases(
            databases, read_only=True, read_only_urls={"default": elsewhere}
        )

    assert "replicas=['default']" in str(caught.value)
    assert "replica.internal" in str(caught.value)
    result = configure_databases(
        databases,
        read_only=True,
        read_only_urls={"default": elsewhere},
        replicas=["default"],
    )
    assert result["default"]["HOST"] == "replica.internal"
    assert result["default"]["DBROLE_SWITCH"]["HOST"] == "db.internal"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://shop_ro:x@db.internal:5432/other_db",
        "postgresql://shop_ro:x@db.internal:6543/shop",
    ],
)
def test_same_host_but_another_database_or_port_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_READ_ONLY_URL", url)

    with pytest.raises(ConfigurationError, match="DATABASE_READ_ONLY_URL points at"):
        configure_databases({"default": privileged()}, read_only=True)


def test_local_host_spellings_count_as_the_same_server() -> None:
    databases = {"default": privileged("postgresql://app:pw@localhost/shop")}

    result = configure_databases(
        databases,
        read_only=True,
        read_only_urls={"default": "postgresql://shop_ro:x@127.0.0.1:5432/shop"},
    )

    assert result["default"]["HOST"] == "127.0.0.1"


def test_the_privileged_role_cannot_be_the_read_only_role() -> None:
    with pytest.raises(ConfigurationError, match="same as the privileged"):
        configure_databases(
            {"default": privileged()},
            read_only=True,
            read_only_urls={"default": "postgresql://app:x@db.internal/shop"},
        )


def test_privileged_settings_without_a_role_are_refused() -> None:
    # Escalation asks for the privileged role's password by name, then checks
    # that it logged in as that role: with no USER it could do neither.
    with pytest.raises(ConfigurationError) as caught:
        configure_databases(
            {"default": privileged("postgresql://db.internal/shop")},
            read_only=True,
            read_only_urls={"default": READ_ONLY},
        )

    assert "DATABASES['default']" in str(caught.value)
    assert "USER" in str(caught.value)


def test_a_read_only_url_without_a_role_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no user name"):
        configure_databases(
            {"default": privileged()},
            read_only=True,
            read_only_urls={"default": "postgresql://db.internal/shop"},
        )


def test_an_unparsable_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        configure_databases(
            {"default": privileged()},
            read_only=True,
            read_only_urls={"default": "mysql://shop_ro:hunter2@db/shop"},
        )

    assert "hunter2" not in str(caught.value)


def test_other_engines_must_be_exempt() -> None:
    databases = {
        "default": privileged(),
        "cache": {"ENGINE": "django.db.backends.sqlite3"},
    }

    with pytest.raises(ConfigurationError, match="exempt=\\['cache'\\]"):
        configure_databases(
            databases, read_only=True, read_only_urls={"default": READ_ONLY}
        )


def test_unset_database_url_in_read_only_mode_is_explained() -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL may be unset"):
        configure_databases({"default": {}}, read_only=True)


def test_unknown_aliases_in_arguments_are_errors() -> None:
    with pytest.raises(ConfigurationError, match="'replika'"):
        configure_databases(
            {"default": privileged()}, read_only=True, exempt=["replika"]
        )


def test_configuring_twice_is_an_error() -> None:
    once = configure_databases(
        {"default": privileged()}, read_only=True, read_only_urls={"default": READ_ONLY}
    )

    with pytest.raises(ConfigurationError, match="once"):
        configure_databases(once, read_only=True, read_only_urls={"default": READ_ONLY})


@pytest.mark.parametrize(
    ("engine", "wrapped"),
    [
        ("django.contrib.gis.db.backends.postgis", "dbrole_switch.backends.postgis"),
        ("django.db.backends.postgresql_psycopg2", "dbrole_switch.backends.postgresql"),
    ],
)
def test_postgis_and_the_old_psycopg2_name_are_wrapped(
    engine: str, wrapped: str
) -> None:
    result = configure_databases(
        {"default": privileged(ENGINE=engine)},
        read_only=True,
        read_only_urls={"default": READ_ONLY},
    )

    assert result["default"]["ENGINE"] == wrapped
    assert result["default"]["DBROLE_SWITCH"]["ENGINE"] == engine


def test_a_custom_application_name_is_kept_after_the_marker() -> None:
    result = configure_databases(
        {"default": privileged(OPTIONS={"application_name": "shop-web"})},
        read_only=True,
        read_only_urls={"default": READ_ONLY},
    )

    assert result["default"]["OPTIONS"]["application_name"] == (
        "dbrole-switch read-only: shop-web"
    )


def test_the_settings_module_imports_neither_psycopg_nor_django_db() -> None:
    code = (
        "import sys, dbrole_switch\n"
        "dbrole_switch.configure_databases({'default': {}}, read_only=False)\n"
        "bad = [m for m in ('psycopg', 'psycopg2', 'django.db') if m in sys.modules]\n"
        "print(bad)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_assume_role_is_refused_in_read_only_mode() -> None:
    with pytest.raises(ConfigurationError, match="assume_role"):
        configure_databases(
            {"default": privileged(OPTIONS={"assume_role": "owner"})},
            read_only=True,
            read_only_urls={"default": READ_ONLY},
        )
