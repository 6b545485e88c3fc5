"""What the switch costs: reads in read-only mode, and one escalation.

A standalone script, not a test. It starts its own throwaway cluster, creates a
privileged owner role and a read-only role, and measures in one Django process,
so that both sides of each ratio share the machine's mood:

- (a) 20,000 ORM ``get()`` by primary key through an alias in read-only mode,
  against the same through an alias with plain Django settings (goal <= 1.01x),
  in interleaved blocks of 1,000;
- (b) ``enable_writes(password=...)`` plus the first query, against a bare psycopg
  connect with SCRAM plus ``SELECT 1`` (goal <= 1.3x).

Each side runs several times, interleaved; the ratio is of the medians::

    python benchmarks/bench_switch.py [--gets 20000] [--rounds 5] [--pg 16]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from dbrole_switch.cluster import Cluster, find_binaries
from dbrole_switch.connection import scram_verifier


def prepare(cluster: Cluster) -> tuple[str, str, str]:
    """Create the database and roles; return (privileged URL, its password, RO URL)."""
    app_password = secrets.token_urlsafe(18)
    ro_password = secrets.token_urlsafe(18)
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        for role, password in (("app", app_password), ("app_ro", ro_password)):
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role),
                    sql.Literal(scram_verifier(conn, role, password)),
                )
            )
        conn.execute("CREATE DATABASE bench OWNER app")
    with psycopg.connect(
        cluster.url_for("postgres", cluster.password, "bench")
    ) as conn:
        conn.execute("GRANT USAGE ON SCHEMA public TO app_ro")
        conn.execute("GRANT ALL ON SCHEMA public TO app")
        conn.execute(
            "ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public "
            "GRANT SELECT ON TABLES TO app_ro"
        )
        conn.execute("ALTER ROLE app_ro SET default_transaction_read_only = on")
    return (
        cluster.url_for("app", app_password, "bench"),
        app_password,
        cluster.url_for("app_ro", ro_password, "bench"),
    )


def setup_django(privileged_url: str, read_only_url: str) -> None:
    import dj_database_url
    import django
    from django.conf import settings

    import dbrole_switch

    databases = dbrole_switch.configure_databases(
        {"default": dj_database_url.parse(privileged_url)},
        read_only=True,
        read_only_urls={"default": read_only_url},
    )
    databases["plain"] = dict(dj_database_url.parse(privileged_url))
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "dbrole_switch"],
        DATABASES=databases,
        USE_TZ=True,
        TIME_ZONE="UTC",
    )
    django.setup()

    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    with connections["plain"].schema_editor() as editor:
        editor.create_model(ContentType)
    ContentType.objects.using("plain").create(app_label="bench", model="thing")


def time_gets(alias: str, gets: int) -> float:
    from django.contrib.contenttypes.models import ContentType

    manager = ContentType.objects.db_manager(alias)
    manager.get(pk=1)
    started = time.perf_counter()
    for _ in range(gets):
        manager.get(pk=1)
    return time.perf_counter() - started


def time_escalation(password: str) -> float:
    from django.db import connection

    import dbrole_switch

    connection.close()
    started = time.perf_counter()
    dbrole_switch.enable_writes(password=password)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    elapsed = time.perf_counter() - started
    dbrole_switch.disable_writes()
    return elapsed


def time_bare_connect(url: str) -> float:
    started = time.perf_counter()
    conn = psycopg.connect(url)
    conn.execute("SELECT 1").fetchone()
    elapsed = time.perf_counter() - started
    # Closing is left out on both sides (disable_writes() is not timed either).
    conn.close()
    return elapsed


def medians(
    rounds: int, first: Callable[[], float], second: Callable[[], float]
) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--escalations", type=int, default=30)
    parser.add_argument("--pg", type=int, default=None, help="major version to use")
    args = parser.parse_args()

    import logging

    # The switch logs each escalation at WARNING; 30 of them would only be noise.
    logging.getLogger("dbrole_switch").setLevel(logging.ERROR)
    with Cluster(find_binaries(version=args.pg)) as cluster:
        privileged_url, password, read_only_url = prepare(cluster)
        setup_django(privileged_url, read_only_url)

        # Interleaved blocks of 1,000: load on a shared machine drifts over
        # seconds, and a ratio taken block by block does not care.
        ratios: list[float] = []
        total = {"default": 0.0, "plain": 0.0}
        for _ in range(args.rounds):
            for block in range(args.gets // 1000):
                # Alternate which side goes first, so neither gains from order.
                if block % 2:
                    plain = time_gets("plain", 1000)
                    read_only = time_gets("default", 1000)
                else:
                    read_only = time_gets("default", 1000)
                    plain = time_gets("plain", 1000)
                total["default"] += read_only
                total["plain"] += plain
                ratios.append(read_only / plain)
        print(
            f"(a) {args.gets} get() by pk x {args.rounds}: read-only "
            f"{total['default'] / args.rounds:.3f} s, plain "
            f"{total['plain'] / args.rounds:.3f} s per {args.gets}; ratio of "
            f"totals {total['default'] / total['plain']:.3f}, median block ratio "
            f"{statistics.median(ratios):.3f} (goal <= 1.01)"
        )

        escalate, bare = medians(
            args.escalations,
            lambda: time_escalation(password),
            lambda: time_bare_connect(privileged_url),
        )
        print(
            f"(b) enable_writes + first query, median of {args.escalations}: "
            f"{escalate * 1000:.1f} ms, bare SCRAM connect + SELECT 1 "
            f"{bare * 1000:.1f} ms, ratio {escalate / bare:.2f} (goal <= 1.3)"
        )

        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
