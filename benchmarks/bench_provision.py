"""Time ``provision`` on a database with 10,000 tables in 20 schemas.

A standalone script, not a test: it starts its own throwaway cluster, builds the
tables in one DO block, and prints how long provisioning took and how many
statements it sent (the goal: proportional to schemas and owners, not tables)::

    python benchmarks/bench_provision.py [--tables 10000] [--schemas 20] [--pg 16]
"""

from __future__ import annotations

import argparse
import time

import psycopg

from dbrole_switch.cluster import Cluster, find_binaries
from dbrole_switch.provision import drop, provision

#: One schema per statement: a single transaction creating every table would need
#: more lock slots than max_locks_per_transaction allows.
BUILD_SCHEMA = """
DO $$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', {schema});
    FOR t IN 1..{per_schema} LOOP
        -- Every tenth table gets a sequence of its own, as serial columns do.
        EXECUTE format(
            'CREATE TABLE %I.%I (id %s, payload text)',
            {schema}, 't_' || t, CASE WHEN t % 10 = 0 THEN 'bigserial' ELSE 'bigint' END
        );
    END LOOP;
END
$$
"""

PASSWORD = "bench-password"  # noqa: S105 - a throwaway cluster's throwaway role


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--schemas", type=int, default=20)
    parser.add_argument("--pg", type=int, default=None, help="major version to use")
    args = parser.parse_args()
    per_schema = args.tables // args.schemas

    # Durability is irrelevant for a throwaway cluster and only slows the build.
    settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    with Cluster(find_binaries(version=args.pg), settings=settings) as cluster:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            started = time.perf_counter()
            for number in range(1, args.schemas + 1):
                build = BUILD_SCHEMA.format(
                    schema=f"'bench_{number}'", per_schema=per_schema
                )
                conn.execute(build.encode())
            built = time.perf_counter() - started
            relations = conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text"
                " LIKE 'bench_%'"
            ).fetchone()

        print(
            f"PostgreSQL {cluster.version}: {args.schemas} schemas, "
            f"{per_schema * args.schemas} tables ({relations[0] if relations else 0} "
            f"relations with sequences) built in {built:.1f} s"
        )
        for label, call in (
            (
                "provision (dry run)",
                lambda: provision(cluster.url, "bench_ro", dry_run=True),
            ),
            (
                "provision",
                lambda: provision(cluster.url, "bench_ro", password=PASSWORD),
            ),
            ("provision again", lambda: provision(cluster.url, "bench_ro")),
            (
                "provision --harden",
                lambda: provision(cluster.url, "bench_ro", harden=True),
            ),
            ("drop", lambda: drop(cluster.url, "bench_ro")),
        ):
            started = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - started
            print(
                f"{label:>20}: {elapsed:6.2f} s, {result.statements_sent:3d} "
                f"statements sent ({len(result.statements)} changing), "
                f"changed={result.changed}"
            )


if __name__ == "__main__":
    main()
