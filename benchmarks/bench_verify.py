"""How long ``verify`` takes, and how many queries it sends, as tables multiply.

A standalone script, not a test: it starts a throwaway cluster, builds databases
of 1,000, 10,000 and 50,000 tables spread over 20 schemas (server-side, in one
DO block each), provisions the read-only role, and times several audits::

    python benchmarks/bench_verify.py                 # default sizes
    python benchmarks/bench_verify.py --sizes 1000,10000 --runs 7 --version 18

The goal for 10,000 tables is under 0.5 s, with a query count that does not
change with the number of tables. Queries are counted twice: by the report, and
in the server log (``log_statement = 'all'``), so the figure is not self-reported.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time

import psycopg
from psycopg import sql

from dbrole_switch.cluster import Cluster, available_binaries, find_binaries
from dbrole_switch.provision import provision
from dbrole_switch.verify import verify

SCHEMAS = 20

# One DO block per schema keeps each transaction's lock table small.
BUILD = """
DO $build$
BEGIN
    EXECUTE format('CREATE SCHEMA s%s', {schema});
    FOR t IN 1..{tables} LOOP
        EXECUTE format(
            'CREATE TABLE s%s.t%s (id bigint, name text, qty integer)', {schema}, t
        );
    END LOOP;
END
$build$;
"""


def build(cluster: Cluster, tables: int) -> str:
    """Create a database of *tables* tables owned by ``bench_owner``; its URL."""
    dbname = f"bench_{tables}"
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = cluster.url_for(cluster.superuser, cluster.password, dbname)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO bench_owner").format(
                sql.Identifier(dbname)
            )
        )
        conn.execute("SET ROLE bench_owner")
        for schema in range(1, SCHEMAS + 1):
            # Text we ship, filled with integers only.
            conn.execute(
                sql.SQL(BUILD).format(
                    schema=sql.Literal(schema), tables=sql.Literal(tables // SCHEMAS)
                )
            )
        # What autovacuum would have done by the time anyone audits: otherwise
        # the first audits pay for setting hint bits on fresh catalog rows.
        conn.execute("RESET ROLE")
        conn.execute("VACUUM (ANALYZE) pg_catalog.pg_class, pg_catalog.pg_attribute")
    print(
        f"  built {tables:,} tables in {SCHEMAS} schemas in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return url


def logged_queries(cluster: Cluster, start: int) -> int:
    with cluster.log_path.open("rb") as f:
        f.seek(start)
        return f.read().decode("utf-8", "replace").count(" statement: ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version", type=int, default=None, help="PostgreSQL major")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    if args.version is None:
        binaries = find_binaries()
    else:
        binaries = next(b for b in available_binaries() if b.version == args.version)

    with Cluster(
        binaries,
        settings={"log_statement": "'all'", "max_locks_per_transaction": "1024"},
    ) as cluster:
        print(f"PostgreSQL {cluster.version} ({binaries.source})")
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("CREATE ROLE bench_owner NOLOGIN")
        print(
            f"{'tables':>8} {'queries':>8} {'logged':>7} {'min s':>7} {'median s':>9}"
        )
        rows = []
        for tables in sizes:
            url = build(cluster, tables)
            provision(url, f"bench_ro_{tables}", password=secrets.token_urlsafe(16))
            timings = []
            queries = logged = 0
            for _ in range(args.runs):
                start = cluster.log_path.stat().st_size
                report = verify(url, f"bench_ro_{tables}")
                time.sleep(0.2)  # let the server finish writing its log
                logged = logged_queries(cluster, start)
                timings.append(report.seconds)
                queries = report.queries
                assert report.errors == [], report.errors
            rows.append(
                (tables, queries, logged, min(timings), statistics.median(timings))
            )
            print(
                f"{tables:>8,} {queries:>8} {logged:>7} {min(timings):>7.3f} "
                f"{statistics.median(timings):>9.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
