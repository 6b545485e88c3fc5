"""System checks: each message appears when it should, and only then."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent

if "DJANGO_SETTINGS_MODULE" not in os.environ:
    from django.conf import settings as _settings

    if not _settings.configured:
        os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from dbrole_switch import checks  # noqa: E402
from dbrole_switch import settings as dbrole_settings  # noqa: E402


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def override() -> Iterator[Any]:
    saved: dict[str, Any] = {}
    missing = object()

    def set_(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, getattr(settings, key, missing))
            setattr(settings, key, value)

    yield set_
    for key, value in saved.items():
        if value is missing:
            delattr(settings, key)
        else:
            setattr(settings, key, value)


def manage_check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TESTS_DIR / "testproject" / "manage.py"), "check"],
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "DJANGO_SETTINGS_MODULE": "testproject.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_test_project_is_clean() -> None:
    result = manage_check(
        DJANGO_READ_ONLY="1",
        DATABASE_URL="postgresql://app@db.invalid/shop",
        DATABASE_READ_ONLY_URL="postgresql://ro:x@db.invalid/shop",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_django_read_only_installed_alongside_is_a_warning() -> None:
    pytest.importorskip("django_read_only")

    result = manage_check(DBROLE_SWITCH_TEST_EXTRA_APPS="django_read_only")

    assert result.returncode == 0
    assert "dbrole_switch.W001" in result.stderr
    assert "enable_writes()" in result.stderr


def test_read_only_mode_without_configure_databases_is_an_error(
    override: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_READ_ONLY", "yes")
    monkeypatch.setattr(dbrole_settings, "last_decision", None)
    override(DATABASES={"default": {"ENGINE": "django.db.backends.postgresql"}})

    messages = checks.check_databases()

    assert ids(messages) == ["dbrole_switch.E001"]
    assert "configure_databases" in messages[0].msg


def test_settings_that_chose_normal_mode_explicitly_pass(
    override: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A one-off process (e.g. a platform's run dyno) may pass read_only=False
    # while DJANGO_READ_ONLY is set for the rest of the deployment.
    monkeypatch.setenv("DJANGO_READ_ONLY", "yes")
    monkeypatch.setattr(dbrole_settings, "last_decision", None)
    databases = dbrole_settings.configure_databases(
        {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}},
        read_only=False,
    )
    override(DATABASES=databases)

    messages = checks.check_databases()

    assert messages == []


def test_read_only_mode_set_up_by_configure_databases_passes(
    override: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dbrole_switch

    monkeypatch.setenv("DJANGO_READ_ONLY", "1")
    override(
        DATABASES=dbrole_switch.configure_databases(
            {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": "x",
                    "USER": "app",
                }
            },
            read_only_urls={"default": "postgresql://ro:pw@/x"},
        )
    )

    assert checks.check_databases() == []


def test_a_bad_django_read_only_value_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DJANGO_READ_ONLY", "perhaps")

    messages = checks.check_databases()

    assert ids(messages) == ["dbrole_switch.E004"]
    assert "DJANGO_READ_ONLY" in messages[0].msg


@pytest.mark.parametrize(
    ("provider", "fragment"),
    [("no.such.module.provider", "cannot be imported"), (42, "not callable")],
)
def test_a_bad_password_provider_is_an_error(
    provider: Any, fragment: str, override: Any
) -> None:
    override(DBROLE_SWITCH_PASSWORD_PROVIDER=provider)

    messages = checks.check_switch_settings()

    assert ids(messages) == ["dbrole_switch.E002"]
    assert fragment in messages[0].msg


def test_a_good_password_provider_and_lapse_pass(override: Any) -> None:
    override(
        DBROLE_SWITCH_PASSWORD_PROVIDER="getpass.getpass",  # noqa: S106
        DBROLE_SWITCH_LAPSE=datetime.timedelta(minutes=5),
    )

    assert checks.check_switch_settings() == []


@pytest.mark.parametrize("lapse", ["15m", -1, 0, True])
def test_a_bad_lapse_is_an_error(lapse: Any, override: Any) -> None:
    override(DBROLE_SWITCH_LAPSE=lapse)

    assert ids(checks.check_switch_settings()) == ["dbrole_switch.E003"]
