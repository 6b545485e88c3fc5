"""One Django process of ``benchmarks/run.py``; prints one JSON document.

Each mode runs in a fresh interpreter, so settings and imports do not leak
between the figures::

    python benchmarks/django_bench.py plain|read-only|guard
    python benchmarks/django_bench.py escalate ROUNDS
    python benchmarks/django_bench.py import-with|import-without
    python benchmarks/django_bench.py setup

Reads BENCH_DATABASE_URL (privileged), BENCH_READ_ONLY_URL, BENCH_GETS and
BENCH_PASSWORD (the privileged password, for escalation).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _imports(with_us: bool) -> dict[str, Any]:
    started = time.perf_counter()
    import dj_database_url
    from django.conf import settings  # noqa: F401 - what a settings module costs

    databases: dict[str, Any] = {"default": dj_database_url.config()}
    if with_us:
        import dbrole_switch

        databases = dbrole_switch.configure_databases(databases, read_only=True)
    seconds = time.perf_counter() - started
    heavy = [name for name in ("psycopg", "psycopg2", "click") if name in sys.modules]
    return {"seconds": seconds, "heavy_modules": heavy}


def _configure(mode: str) -> None:
    import dj_database_url
    import django
    from django.conf import settings

    import dbrole_switch

    apps = ["django.contrib.contenttypes", "django.contrib.auth"]
    databases: dict[str, Any] = {
        "default": dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])
    }
    if mode in ("read-only", "escalate"):
        apps.append("dbrole_switch")
        databases = dbrole_switch.configure_databases(
            databases,
            read_only=True,
            read_only_urls={"default": os.environ["BENCH_READ_ONLY_URL"]},
        )
    elif mode == "guard":
        # django-read-only reads the same variable; its guard wraps every query.
        os.environ["DJANGO_READ_ONLY"] = "1"
        apps.append("django_read_only")
    settings.configure(
        DATABASES=databases,
        INSTALLED_APPS=apps,
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def _gets() -> dict[str, Any]:
    from django.contrib.auth.models import Group

    count = int(os.environ.get("BENCH_GETS", "20000"))
    ids = list(Group.objects.values_list("pk", flat=True))
    for pk in ids[:50]:
        Group.objects.get(pk=pk)
    started = time.perf_counter()
    for number in range(count):
        Group.objects.get(pk=ids[number % len(ids)])
    return {"seconds": time.perf_counter() - started}


def _escalate(rounds: int, password: str) -> dict[str, Any]:
    import psycopg
    from django.db import connection

    import dbrole_switch

    escalate, connect = [], []
    connection.ensure_connection()
    url = os.environ["BENCH_DATABASE_URL"]
    for _ in range(rounds):
        started = time.perf_counter()
        dbrole_switch.enable_writes(password=password)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        escalate.append(time.perf_counter() - started)
        dbrole_switch.disable_writes()

        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute("SELECT 1").fetchone()
        connect.append(time.perf_counter() - started)
    return {"escalate": escalate, "connect": connect}


def _setup() -> dict[str, Any]:
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", "auth", verbosity=0)
    Group.objects.bulk_create(Group(name=f"group {n}") for n in range(100))
    return {}


def main() -> None:
    mode = sys.argv[1]
    if mode.startswith("import-"):
        result = _imports(mode == "import-with")
    elif mode == "setup":
        _configure("plain")
        result = _setup()
    elif mode == "escalate":
        _configure(mode)
        result = _escalate(int(sys.argv[2]), os.environ["BENCH_PASSWORD"])
    else:
        _configure(mode)
        result = _gets()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
