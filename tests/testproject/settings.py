"""Settings of the test project: what the README tells users to write."""

from __future__ import annotations

import os

import dj_database_url

import dbrole_switch

SECRET_KEY = "not-secret-test-only"  # noqa: S105
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "testproject.urls"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "dbrole_switch",
    "testproject",
    # Lets a test add an app (e.g. django_read_only) without a settings file.
    *filter(None, os.environ.get("DBROLE_SWITCH_TEST_EXTRA_APPS", "").split(",")),
]

DATABASES = dbrole_switch.configure_databases(
    {"default": dj_database_url.config(conn_max_age=0)}
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"dbrole_switch": {"handlers": ["console"], "level": "INFO"}},
}

if os.environ.get("DBROLE_SWITCH_TEST_PASSWORD_PROVIDER"):
    DBROLE_SWITCH_PASSWORD_PROVIDER = os.environ["DBROLE_SWITCH_TEST_PASSWORD_PROVIDER"]
