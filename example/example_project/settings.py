"""Settings of the example project, wired the way the README tells users to.

``DATABASE_URL`` is the privileged connection. With ``DJANGO_READ_ONLY=1`` the
project connects with ``DATABASE_READ_ONLY_URL`` instead, and
``dbrole_switch.enable_writes()`` goes back to ``DATABASE_URL`` after asking for
its password.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

import dbrole_switch

BASE_DIR = Path(__file__).resolve().parent.parent

# An example project only: a real one reads its key from the environment.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "example-only-not-secret-dbrole-switch-demo-key"
)
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "library",
    "dbrole_switch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = dbrole_switch.configure_databases({"default": dj_database_url.config()})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
