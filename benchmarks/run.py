"""Every performance figure of dbrole-switch, side by side, in one run.

Starts its own throwaway cluster, measures each figure several times next to the
reference it is judged against (absolute times drift on shared machines; ratios
measured in the same run do not), and prints one table::

    python benchmarks/run.py            # the whole table, a few minutes
    python benchmarks/run.py --quick    # smaller sizes, for a smoke run
    python benchmarks/run.py --json     # one JSON document

Needs the test extras (``pip install '.[test]'``) and ``django-read-only`` for the
P1 reference.

- P1: 20,000 ORM get() by pk in read-only mode, against plain Django settings
  and against django-read-only (goal: <= 1.01x plain, below django-read-only).
- P2: enable_writes(password=...) + first query, against a bare psycopg connect
  with SCRAM + SELECT 1 (goal: <= 1.3x).
- P3: verify at 1,000 / 10,000 / 50,000 tables in 20 schemas (goal: <= 0.5 s at
  10,000, queries constant).
- P4: provision at the same sizes (goal: <= 3 s at 10,000).
- P5: import dbrole_switch + configure_databases() in a fresh interpreter, against
  settings without it (goal: <= 5 ms added, psycopg and click not imported).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbrole_switch.cluster import Cluster, find_binaries
from dbrole_switch.provision import drop, provision
from dbrole_switch.verify import verify

HERE = Path(__file__).resolve().parent
SCHEMAS = 20
OWNER = "bench_owner"
READER = "bench_ro"
# Throwaway roles of a throwaway cluster.
OWNER_PASSWORD = "bench-owner-password"  # noqa: S105
READER_PASSWORD = "bench-reader-password"  # noqa: S105


@dataclass
class Figure:
    figure: str
    what: str
    samples: list[float]
    unit: str = "s"
    reference: str = ""
    reference_samples: list[float] = field(default_factory=list)
    goal: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float | None:
        if not self.reference_samples:
            return None
        return self.median / statistics.median(self.reference_samples)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median=self.median,
            min=min(self.samples),
            max=max(self.samples),
            reference_median=(
                statistics.median(self.reference_samples)
                if self.reference_samples
                else None
            ),
            ratio=self.ratio,
        )
        return data


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _build_tables(url: str, tables: int) -> None:
    """*tables* tables in SCHEMAS schemas owned by OWNER; one in ten with a serial."""
    per_schema = max(tables // SCHEMAS, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER)))
        for number in range(SCHEMAS):
            # One schema per transaction: all tables at once would exhaust the
            # lock table (max_locks_per_transaction).
            conn.execute(
                sql.SQL(
                    "DO $$ BEGIN"
                    " EXECUTE format('CREATE SCHEMA %I', {schema});"
                    " FOR t IN 1..{count} LOOP"
                    "  EXECUTE format('CREATE TABLE %I.%I (id %s, payload text)',"
                    "   {schema}, 't_' || t,"
                    "   CASE WHEN t % 10 = 0 THEN 'bigserial' ELSE 'bigint' END);"
                    " END LOOP; END $$"
                ).format(
                    schema=sql.Literal(f"s_{number}"), count=sql.Literal(per_schema)
                )
            )


def _create_database(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER)
            )
        )
    return cluster.url_for(cluster.superuser, cluster.password, name)


def catalog_figures(
    cluster: Cluster, sizes: Sequence[int], rounds: int
) -> list[Figure]:
    """P3 (verify) and P4 (provision) at each size."""
    figures = []
    for size in sizes:
        url = _create_database(cluster, f"bench_{size}")
        built, _ = _timed(partial(_build_tables, url, size))
        print(f"  built {size:,} tables in {built:.1f} s", file=sys.stderr)

        provision_times: list[float] = []
        statements: set[int] = set()
        for _ in range(rounds):
            elapsed, result = _timed(
                partial(provision, url, READER, password=READER_PASSWORD)
            )
            provision_times.append(elapsed)
            statements.add(result.statements_sent)
            drop(url, READER)
        provision(url, READER, password=READER_PASSWORD)

        verify_times: list[float] = []
        queries: set[int] = set()
        clean = True
        for _ in range(rounds):
            elapsed, report = _timed(partial(verify, url, READER))
            verify_times.append(elapsed)
            queries.add(report.queries)
            clean = clean and report.ok

        at_goal_size = size == 10_000
        figures.append(
            Figure(
                "P3",
                f"verify, {size:,} tables in {SCHEMAS} schemas",
                verify_times,
                goal="<= 0.5 s at 10,000; queries constant",
                met=(statistics.median(verify_times) <= 0.5) if at_goal_size else None,
                extra={"queries": sorted(queries), "clean": clean, "tables": size},
            )
        )
        figures.append(
            Figure(
                "P4",
                f"provision, {size:,} tables in {SCHEMAS} schemas",
                provision_times,
                goal="<= 3 s at 10,000; statements ∝ schemas + owners",
                met=(statistics.median(provision_times) <= 3) if at_goal_size else None,
                extra={"statements": sorted(statements), "tables": size},
            )
        )
    return figures


def _django(mode: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE / "django_bench.py"), mode, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"django_bench.py {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def django_figures(cluster: Cluster, gets: int, rounds: int) -> list[Figure]:
    """P1 (reads in read-only mode) and P2 (escalation), with their references."""
    url = _create_database(cluster, "bench_django")
    privileged = cluster.url_for(OWNER, OWNER_PASSWORD, "bench_django")
    env = {
        "BENCH_DATABASE_URL": privileged,
        "BENCH_READ_ONLY_URL": cluster.url_for(READER, READER_PASSWORD, "bench_django"),
        "BENCH_GETS": str(gets),
        "BENCH_PASSWORD": OWNER_PASSWORD,
    }
    _django("setup", env)
    provision(url, READER, password=READER_PASSWORD, owners=[OWNER])

    samples: dict[str, list[float]] = {"plain": [], "read-only": [], "guard": []}
    for _ in range(rounds):
        # Interleaved, so drift hits every mode alike.
        for mode in samples:
            samples[mode].append(_django(mode, env)["seconds"])

    escalations = _django("escalate", env, str(rounds * 5))
    p1 = Figure(
        "P1",
        f"{gets:,} ORM get() by pk, read-only mode",
        samples["read-only"],
        reference="plain Django settings",
        reference_samples=samples["plain"],
        goal="<= 1.01x plain, below django-read-only",
        extra={
            "django_read_only_median": statistics.median(samples["guard"]),
            "django_read_only_ratio": statistics.median(samples["guard"])
            / statistics.median(samples["plain"]),
        },
    )
    p1.met = (p1.ratio or 0) <= 1.01 and p1.median < statistics.median(samples["guard"])
    p2 = Figure(
        "P2",
        "enable_writes(password=...) + first query",
        escalations["escalate"],
        reference="psycopg connect (SCRAM) + SELECT 1",
        reference_samples=escalations["connect"],
        goal="<= 1.3x",
    )
    p2.met = (p2.ratio or 0) <= 1.3
    return [p1, p2]


def import_figure(rounds: int) -> Figure:
    """P5: what importing dbrole_switch and configure_databases() add at startup."""
    env = {
        "DATABASE_URL": "postgresql://app@db.example/app",
        "DATABASE_READ_ONLY_URL": "postgresql://app_ro@db.example/app",
    }
    with_us: list[float] = []
    without: list[float] = []
    leaked: set[str] = set()
    for _ in range(rounds):
        for target, store in (("with", with_us), ("without", without)):
            result = _django(f"import-{target}", env)
            store.append(result["seconds"])
            leaked.update(result["heavy_modules"])
    figure = Figure(
        "P5",
        "import dbrole_switch + configure_databases() in a fresh interpreter",
        [a - b for a, b in zip(with_us, without, strict=True)],
        unit="s added",
        reference="settings without dbrole_switch",
        goal="<= 5 ms added; psycopg and click not imported",
        extra={"imported_heavy_modules": sorted(leaked)},
    )
    figure.met = figure.median <= 0.005 and not leaked
    return figure


def _format(seconds: float) -> str:
    if abs(seconds) < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def print_table(figures: list[Figure], header: str) -> None:
    print(header)
    print()
    print("| figure | what | median | min | max | reference | ratio | goal | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for f in figures:
        ratio = f"{f.ratio:.3f}x" if f.ratio is not None else "-"
        extra = ", ".join(f"{k}={v}" for k, v in f.extra.items())
        what = f"{f.what} ({extra})" if extra else f.what
        reference = (
            f"{f.reference}: {_format(statistics.median(f.reference_samples))}"
            if f.reference_samples
            else f.reference or "-"
        )
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        print(
            f"| {f.figure} | {what} | {_format(f.median)} | {_format(min(f.samples))}"
            f" | {_format(max(f.samples))} | {reference} | {ratio} | {f.goal} | {met} |"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds")
    parser.add_argument("--pg", type=int, default=None, help="PostgreSQL major version")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    sizes = (200, 1_000) if args.quick else (1_000, 10_000, 50_000)
    gets = 2_000 if args.quick else 20_000

    started = time.perf_counter()
    settings = {"max_locks_per_transaction": "256", "log_statement": "'none'"}
    with Cluster(find_binaries(version=args.pg), settings=settings) as cluster:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                    sql.Identifier(OWNER), sql.Literal(OWNER_PASSWORD)
                )
            )
        print("P5: imports", file=sys.stderr)
        figures = [import_figure(rounds * 4)]
        print("P1, P2: Django", file=sys.stderr)
        figures[:0] = django_figures(cluster, gets, rounds)
        print("P3, P4: catalog sizes", file=sys.stderr)
        figures.extend(catalog_figures(cluster, sizes, min(rounds, 3)))
        version = cluster.version

    total = time.perf_counter() - started
    header = (
        f"dbrole-switch benchmarks: PostgreSQL {version}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, {total:.0f} s in all"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "postgresql": version,
                    "python": sys.version.split()[0],
                    "seconds": total,
                    "figures": [f.to_json() for f in figures],
                },
                indent=2,
            )
        )
    else:
        print_table(figures, header)


if __name__ == "__main__":
    main()
