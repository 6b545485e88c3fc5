"""The in-process switch against real servers, with the test project's model.

Django runs in this process (``testproject.settings``); each test gets a fresh
database with a privileged owner role and a read-only role, and installs the
``DATABASES`` that ``configure_databases()`` makes for them. Scenarios that need a
terminal, no terminal, or another driver run in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest
from psycopg import sql

TESTS_DIR = Path(__file__).resolve().parent

if "DJANGO_SETTINGS_MODULE" not in os.environ:
    from django.conf import settings as _settings

    if not _settings.configured:
        os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"

import django  # noqa: E402

django.setup()

from asgiref.local import Local  # noqa: E402
from asgiref.sync import SyncToAsync, sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import DatabaseError, connection, connections, transaction  # noqa: E402
from django.db import utils as db_utils  # noqa: E402
from django.db.backends.postgresql.base import (  # noqa: E402
    DatabaseWrapper as PostgresWrapper,
)
from testproject.models import Note  # noqa: E402

import dbrole_switch  # noqa: E402
from dbrole_switch import state, switch  # noqa: E402
from dbrole_switch.connection import scram_verifier  # noqa: E402
from dbrole_switch.errors import EscalationError, UsageError  # noqa: E402


@dataclass
class Project:
    """A fresh database with its two roles, installed as Django's ``DATABASES``."""

    db: Any
    privileged: str
    privileged_password: str
    read_only: str
    read_only_password: str

    @property
    def privileged_url(self) -> str:
        return str(self.db.url_for(self.privileged, self.privileged_password))

    @property
    def read_only_url(self) -> str:
        return str(self.db.url_for(self.read_only, self.read_only_password))

    def databases(self, **kwargs: Any) -> dict[str, Any]:
        options = kwargs.pop("options", {})
        privileged = dj_database_url.parse(self.privileged_url)
        privileged["OPTIONS"] = {**privileged.get("OPTIONS", {}), **options}
        kwargs.setdefault("read_only_urls", {"default": self.read_only_url})
        return dbrole_switch.configure_databases(
            {"default": privileged}, read_only=True, **kwargs
        )

    def sessions(self) -> list[tuple[str, str]]:
        """(role, application_name) of every client session on the database."""
        return [
            (row[0], row[1])
            for row in self.db.execute(
                "SELECT usename, application_name FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'",
                [self.db.name],
            )
        ]


def install_databases(databases: dict[str, Any]) -> None:
    """Make Django use *databases* from now on, in every thread."""
    connections.close_all()
    pools = getattr(PostgresWrapper, "_connection_pools", {})
    for pool in list(pools.values()):
        pool.close()
    pools.clear()
    executor = SyncToAsync.single_thread_executor
    if getattr(executor, "_threads", None):
        executor.submit(connections.close_all).result(10)
    settings.DATABASES = databases
    connections.__dict__.pop("settings", None)
    connections._settings = None  # type: ignore[attr-defined]
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    state.reset()


def make_project(db: Any) -> Project:
    project = Project(
        db=db,
        privileged="",
        privileged_password=secrets.token_urlsafe(18),
        read_only="",
        read_only_password=secrets.token_urlsafe(18),
    )
    project.privileged = db.role("app")
    project.read_only = db.role("ro")
    with db.connect() as conn:
        # Verifiers computed here: the server log (log_statement=all) must never
        # see a plain password, so that the test on it below means something.
        for role, password in (
            (project.privileged, project.privileged_password),
            (project.read_only, project.read_only_password),
        ):
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role),
                    sql.Literal(scram_verifier(conn, role, password)),
                )
            )
    app, ro = sql.Identifier(project.privileged), sql.Identifier(project.read_only)
    name = sql.Identifier(db.name)
    for statement in (
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(name, app),
        sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(app),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(name, ro),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ro),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
            "GRANT SELECT ON TABLES TO {}"
        ).format(app, ro),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
            "GRANT SELECT ON SEQUENCES TO {}"
        ).format(app, ro),
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ro),
    ):
        db.execute(statement)

    install_databases(
        dbrole_switch.configure_databases(
            {"default": dj_database_url.parse(project.privileged_url)}, read_only=False
        )
    )
    with connection.schema_editor() as editor:
        editor.create_model(Note)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE audit (id serial PRIMARY KEY, who text NOT NULL "
            "DEFAULT current_user, app text NOT NULL DEFAULT "
            "current_setting('application_name'), at timestamptz NOT NULL "
            "DEFAULT clock_timestamp())"
        )
    Note.objects.create(title="first")
    connections.close_all()
    return project


@pytest.fixture
def project(db: Any, needs_password_auth: None) -> Iterator[Project]:
    made = make_project(db)
    install_databases(made.databases())
    yield made
    install_databases({})


def current_user(using: str = "default") -> str:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


def assert_read_only_and_usable(project: Project) -> None:
    """The fault left the process reading, refusing writes, and not escalated."""
    assert Note.objects.filter(title="first").exists()
    assert current_user() == project.read_only
    with pytest.raises(dbrole_switch.ReadOnlyError):
        Note.objects.create(title="must fail")
    assert not dbrole_switch.writes_enabled()


# --- read-only mode -----------------------------------------------------------


def test_create_fails_with_an_error_naming_alias_role_and_the_way_out(
    project: Project,
) -> None:
    with pytest.raises(dbrole_switch.ReadOnlyError) as caught:
        Note.objects.create(title="nope")

    message = str(caught.value)
    assert "'default'" in message
    assert repr(project.read_only) in message
    assert "enable_writes()" in message
    assert isinstance(caught.value, DatabaseError)
    assert isinstance(caught.value, db_utils.ProgrammingError | db_utils.InternalError)
    assert "\n" not in message
    assert Note.objects.count() == 1


def test_reads_of_every_shape_work(project: Project) -> None:
    qs = Note.objects.filter(title="first")

    assert list(
        qs.union(Note.objects.filter(pk=0)).values_list("title", flat=True)
    ) == ["first"]
    assert [n.title for n in Note.objects.raw("select * from testproject_note")] == [
        "first"
    ]
    with connection.cursor() as cursor:
        cursor.execute("with t as (select 1 as x) select x from t")
        assert cursor.fetchone() == (1,)
        cursor.execute("SHOW transaction_read_only")
        assert cursor.fetchone() == ("on",)
        cursor.execute("VALUES (1, 'a'), (2, 'b')")
        assert cursor.fetchall() == [(1, "a"), (2, "b")]
    assert [n.title for n in Note.objects.iterator(chunk_size=1)] == ["first"]
    assert current_user() == project.read_only


def test_update_delete_and_raw_writes_are_refused(project: Project) -> None:
    for write in (
        lambda: Note.objects.update(title="x"),
        lambda: Note.objects.all().delete(),
        lambda: connection.cursor().execute("insert into audit default values"),
        lambda: connection.cursor().execute("CREATE TABLE sneaky (id int)"),
        lambda: Note.objects.bulk_create([Note(title="a"), Note(title="b")]),
        # The belt is the session's to turn off; the privileges still refuse.
        lambda: connection.cursor().execute(
            "SET default_transaction_read_only = off; insert into audit default values"
        ),
    ):
        with pytest.raises(dbrole_switch.ReadOnlyError):
            write()

    assert list(Note.objects.values_list("title", flat=True)) == ["first"]


def test_select_for_update_fails_with_the_friendly_error(project: Project) -> None:
    with pytest.raises(dbrole_switch.ReadOnlyError) as caught, transaction.atomic():
        list(Note.objects.select_for_update())

    assert "enable_writes()" in str(caught.value)
    assert Note.objects.count() == 1


def test_read_only_sessions_are_marked_in_pg_stat_activity(project: Project) -> None:
    current_user()

    assert (project.read_only, "dbrole-switch read-only") in project.sessions()


# --- escalation ---------------------------------------------------------------


def test_enable_writes_logs_in_as_the_privileged_role_and_disable_goes_back(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dbrole_switch")

    dbrole_switch.enable_writes(password=project.privileged_password)

    assert dbrole_switch.writes_enabled()
    assert current_user() == project.privileged
    Note.objects.create(title="written")
    escalated = [app for role, app in project.sessions() if role == project.privileged]
    assert escalated and escalated[0].startswith("dbrole-switch escalated ")

    dbrole_switch.disable_writes()

    assert not dbrole_switch.writes_enabled()
    with pytest.raises(dbrole_switch.ReadOnlyError):
        Note.objects.create(title="refused again")
    assert current_user() == project.read_only
    assert Note.objects.count() == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "ENABLED" in warnings[0].getMessage()
    assert "DISABLED" in warnings[1].getMessage()
    for record in warnings:
        text = record.getMessage()
        assert "'default'" in text and state.os_user() in text
        assert project.privileged_password not in text
    assert project.privileged in warnings[0].getMessage()
    assert project.read_only in warnings[1].getMessage()


def test_escalated_and_read_only_sessions_differ_in_application_name(
    project: Project,
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)
    current_user()
    other: list[str] = []

    def read_in_another_thread() -> None:
        other.append(current_user())
        connection.close()

    thread = threading.Thread(target=read_in_another_thread)
    thread.start()
    thread.join()
    apps = dict(project.sessions())

    assert other == [project.privileged]
    assert apps[project.privileged].startswith("dbrole-switch escalated ")
    assert state.os_user() in apps[project.privileged]
    dbrole_switch.disable_writes()
    current_user()
    assert dict(project.sessions()) == {project.read_only: "dbrole-switch read-only"}


def test_temp_writes_restores_the_state_it_found(project: Project) -> None:
    with dbrole_switch.temp_writes(password=project.privileged_password):
        Note.objects.create(title="in block")
        assert dbrole_switch.writes_enabled()
    assert not dbrole_switch.writes_enabled()

    dbrole_switch.enable_writes(password=project.privileged_password)
    with dbrole_switch.temp_writes(password="unchecked"):  # noqa: S106
        Note.objects.create(title="nested")
    assert dbrole_switch.writes_enabled()
    dbrole_switch.disable_writes()

    @dbrole_switch.temp_writes(password=project.privileged_password)
    def decorated() -> int:
        return int(Note.objects.create(title="decorated").pk)

    assert decorated() and decorated()
    assert not dbrole_switch.writes_enabled()
    assert Note.objects.count() == 5


def test_disable_inside_an_atomic_block_rolls_the_transaction_back(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)

    def write_then_disable() -> None:
        with transaction.atomic():
            Note.objects.create(title="never committed")
            dbrole_switch.disable_writes()
            Note.objects.count()

    with pytest.raises(DatabaseError):
        write_then_disable()

    assert "the open transaction was rolled back" in caplog.text
    assert not Note.objects.filter(title="never committed").exists()
    assert_read_only_and_usable(project)


def test_the_password_provider_setting_is_asked_before_the_prompt(
    project: Project, settings_override: Any
) -> None:
    asked: list[switch.PasswordRequest] = []

    def provider(request: switch.PasswordRequest) -> str:
        asked.append(request)
        return project.privileged_password

    settings_override(DBROLE_SWITCH_PASSWORD_PROVIDER=provider)

    dbrole_switch.enable_writes()

    assert current_user() == project.privileged
    assert [(r.alias, r.role, r.dbname) for r in asked] == [
        ("default", project.privileged, project.db.name)
    ]
    dbrole_switch.disable_writes()


def test_status_and_listeners_follow_each_switch(project: Project) -> None:
    seen: list[switch.AliasState] = []
    switch.add_listener(seen.append)
    try:
        dbrole_switch.enable_writes(password=project.privileged_password, lapse=60)
        escalation = switch.escalation("default")
        dbrole_switch.disable_writes()
    finally:
        switch.remove_listener(seen.append)

    assert [s.escalated for s in seen] == [True, False]
    assert escalation is not None and escalation.lapse == 60.0
    assert escalation.role == project.privileged
    assert switch.read_only_mode()
    (status,) = switch.aliases()
    assert (status.alias, status.read_only_role, status.privileged_role) == (
        "default",
        project.read_only,
        project.privileged,
    )
    assert status.dbname == project.db.name and not status.escalated


def test_async_orm_calls_follow_the_switch(project: Project) -> None:
    async def user_seen_by_async_orm() -> str:
        return await sync_to_async(current_user)()

    assert asyncio.run(user_seen_by_async_orm()) == project.read_only

    dbrole_switch.enable_writes(password=project.privileged_password)
    assert asyncio.run(user_seen_by_async_orm()) == project.privileged

    dbrole_switch.disable_writes()
    assert asyncio.run(user_seen_by_async_orm()) == project.read_only


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django's pool came in 5.1")
def test_a_connection_pool_follows_the_switch(
    db: Any, needs_password_auth: None
) -> None:
    pytest.importorskip("psycopg_pool")
    made = make_project(db)
    install_databases(made.databases(options={"pool": {"min_size": 1, "max_size": 4}}))
    seen: list[str] = []

    def in_another_thread() -> None:
        seen.append(current_user())
        connection.close()

    try:
        assert current_user() == made.read_only
        connection.close()

        dbrole_switch.enable_writes(password=made.privileged_password)
        Note.objects.create(title="pooled")
        thread = threading.Thread(target=in_another_thread)
        thread.start()
        thread.join()
        assert (current_user(), seen) == (made.privileged, [made.privileged])
        connection.close()

        dbrole_switch.disable_writes()
        assert current_user() == made.read_only
        with pytest.raises(dbrole_switch.ReadOnlyError):
            Note.objects.create(title="refused")
    finally:
        install_databases({})


def test_aliases_switch_one_at_a_time_and_exempt_ones_are_left_alone(
    db: Any, needs_password_auth: None
) -> None:
    made = make_project(db)
    privileged = dj_database_url.parse(made.privileged_url)
    install_databases(
        dbrole_switch.configure_databases(
            {"default": privileged, "other": privileged, "exempt": privileged},
            read_only=True,
            read_only_urls={"default": made.read_only_url, "other": made.read_only_url},
            exempt=["exempt"],
        )
    )

    try:
        dbrole_switch.enable_writes("other", password=made.privileged_password)

        assert [current_user(alias) for alias in ("default", "other", "exempt")] == [
            made.read_only,
            made.privileged,
            made.privileged,
        ]
        assert not dbrole_switch.writes_enabled()
        assert dbrole_switch.writes_enabled(["other", "exempt"])
        with pytest.raises(UsageError, match="'typo'"):
            dbrole_switch.enable_writes(["default", "typo"], password="unused")  # noqa: S106
        assert not dbrole_switch.writes_enabled("default")

        dbrole_switch.disable_writes(["other", "exempt"])

        with pytest.raises(
            dbrole_switch.ReadOnlyError, match=r"enable_writes\('other'\)"
        ):
            Note.objects.using("other").create(title="refused")
        assert current_user("exempt") == made.privileged
    finally:
        install_databases({})


# --- faults: each leaves the process read-only and usable ---------------------


def test_wrong_password(project: Project) -> None:
    with pytest.raises(EscalationError, match="password authentication failed"):
        dbrole_switch.enable_writes(password="wrong")  # noqa: S106

    assert_read_only_and_usable(project)


def test_privileged_role_dropped(project: Project) -> None:
    app = sql.Identifier(project.privileged)
    project.db.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(app))
    project.db.execute(sql.SQL("DROP OWNED BY {}").format(app))
    project.db.execute(sql.SQL("DROP ROLE {}").format(app))

    with pytest.raises(EscalationError, match="writes stay disabled"):
        dbrole_switch.enable_writes(password=project.privileged_password)

    assert_read_only_and_usable(project)


def test_privileged_password_expired(project: Project) -> None:
    project.db.execute(
        sql.SQL("ALTER ROLE {} VALID UNTIL '2000-01-01'").format(
            sql.Identifier(project.privileged)
        )
    )

    with pytest.raises(EscalationError, match="writes stay disabled"):
        dbrole_switch.enable_writes(password=project.privileged_password)

    assert_read_only_and_usable(project)


def test_inside_an_atomic_block(project: Project) -> None:
    with transaction.atomic():
        Note.objects.count()
        with pytest.raises(EscalationError, match="inside a transaction"):
            dbrole_switch.enable_writes(password=project.privileged_password)
        assert Note.objects.count() == 1

    assert_read_only_and_usable(project)


def test_with_autocommit_off(project: Project) -> None:
    transaction.set_autocommit(False)
    try:
        Note.objects.count()
        with pytest.raises(EscalationError, match="autocommit off"):
            dbrole_switch.enable_writes(password=project.privileged_password)
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)

    assert_read_only_and_usable(project)


def test_server_unreachable_during_escalation(
    db: Any, needs_password_auth: None
) -> None:
    made = make_project(db)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    databases = made.databases(replicas=["default"])
    databases["default"]["DBROLE_SWITCH"]["PORT"] = closed_port
    install_databases(databases)
    started = time.monotonic()

    with pytest.raises(EscalationError, match="writes stay disabled"):
        dbrole_switch.enable_writes(password=made.privileged_password)

    assert time.monotonic() - started < 5
    assert_read_only_and_usable(made)
    install_databases({})


def test_database_restarted_between_escalation_and_next_query(
    project: Project, pg_server: Any
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)
    Note.objects.create(title="before restart")

    pg_server.restart()
    with pytest.raises(switch.WritesDisabledError, match="enable_writes"):
        Note.objects.count()

    assert_read_only_and_usable(project)
    assert Note.objects.filter(title="before restart").exists()


def test_restart_ends_the_escalation_with_health_checks_on(
    db: Any, needs_password_auth: None, pg_server: Any
) -> None:
    # With CONN_HEALTH_CHECKS, Django quietly replaces a dead connection at the
    # start of the next request: that must not log in as the privileged role again.
    made = make_project(db)
    databases = made.databases()
    databases["default"].update(CONN_HEALTH_CHECKS=True, CONN_MAX_AGE=None)
    install_databases(databases)
    dbrole_switch.enable_writes(password=made.privileged_password)
    Note.objects.create(title="before restart")

    pg_server.restart()
    request_started.send(sender=None)

    assert_read_only_and_usable(made)
    install_databases({})


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django's pool came in 5.1")
def test_a_connection_pool_recovers_from_a_restart_in_read_only_mode(
    db: Any, needs_password_auth: None, pg_server: Any
) -> None:
    pytest.importorskip("psycopg_pool")
    made = make_project(db)
    pool = {"min_size": 1, "max_size": 2, "timeout": 2}
    install_databases(made.databases(options={"pool": pool}))
    seen = [current_user()]
    connection.close()
    failures: list[str] = []

    try:
        for _restart in range(pool["max_size"]):
            pg_server.restart()
            # As with Django's own backend, each dead pooled connection fails once.
            for _attempt in range(pool["max_size"] + 1):
                try:
                    seen.append(current_user())
                    break
                except DatabaseError as exc:
                    failures.append(str(exc))
                finally:
                    connection.close()

        assert seen == [made.read_only] * (pool["max_size"] + 1), failures
    finally:
        install_databases({})


# --- other threads ------------------------------------------------------------


def test_escalated_connection_in_another_thread_cannot_write_after_disable(
    project: Project,
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)
    opened = threading.Event()
    disabled = threading.Event()
    outcome: list[str] = []

    def worker() -> None:
        Note.objects.create(title="while escalated")
        held = connection.cursor()
        opened.set()
        disabled.wait(10)
        try:
            held.execute("insert into audit default values")
            outcome.append("held cursor wrote")
        except DatabaseError:
            outcome.append("held cursor refused")
        try:
            Note.objects.create(title="after disable")
            outcome.append("ORM wrote")
        except dbrole_switch.ReadOnlyError:
            outcome.append("ORM refused")
        outcome.append(current_user())
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    opened.wait(10)
    dbrole_switch.disable_writes()
    disabled.set()
    thread.join(20)

    assert outcome == ["held cursor refused", "ORM refused", project.read_only]
    assert project.db.execute("SELECT count(*) FROM audit") == [(0,)]


def test_a_thread_connected_before_escalation_keeps_its_role_until_it_asks(
    project: Project,
) -> None:
    connected = threading.Event()
    escalated = threading.Event()
    outcome: list[str] = []

    def worker() -> None:
        current_user()
        connected.set()
        escalated.wait(10)
        try:
            Note.objects.create(title="too early")
        except dbrole_switch.ReadOnlyError as exc:
            outcome.append(str(exc))
        dbrole_switch.enable_writes()
        Note.objects.create(title="after asking")
        outcome.append(current_user())
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    connected.wait(10)
    dbrole_switch.enable_writes(password=project.privileged_password)
    escalated.set()
    thread.join(20)
    dbrole_switch.disable_writes()

    assert "writes were enabled after this thread connected" in outcome[0]
    assert outcome[1:] == [project.privileged]
    assert Note.objects.filter(title="after asking").exists()


def test_a_thread_whose_escalation_lost_a_race_writes_too(
    project: Project, settings_override: Any
) -> None:
    prompt_open = threading.Event()
    answer = threading.Event()
    outcome: list[str] = []

    def slow_provider(request: switch.PasswordRequest) -> str:
        prompt_open.set()
        answer.wait(10)
        return project.privileged_password

    settings_override(DBROLE_SWITCH_PASSWORD_PROVIDER=slow_provider)

    def worker() -> None:
        current_user()
        dbrole_switch.enable_writes()
        outcome.append(current_user())
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    prompt_open.wait(10)
    dbrole_switch.enable_writes(password=project.privileged_password)
    answer.set()
    thread.join(20)
    dbrole_switch.disable_writes()

    assert outcome == [project.privileged]


@pytest.mark.slow
def test_fifty_threads_racing_a_hundred_switches(project: Project) -> None:
    baseline = len(project.sessions())
    stop = threading.Event()
    errors: list[BaseException] = []
    writes = [0] * 50
    wrote = threading.Event()

    def worker(number: int) -> None:
        # Five threads follow each escalation (a new connection takes the current
        # mode); the others keep their first, read-only, connection. Logging in
        # with SCRAM costs ~15 ms of CPU, so not every thread reconnects.
        follower = number < 5
        seen = None
        try:
            while not stop.is_set():
                token = state.current_token("default")
                if follower and token != seen:
                    seen = token
                    connection.close()
                with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                    cursor.execute("insert into audit default values")
                    writes[number] += 1
                    wrote.set()
                with contextlib.suppress(DatabaseError):
                    Note.objects.filter(pk=1).exists()
                # This machine's budget: 45 idle-ish readers, 5 busy followers.
                time.sleep(0.005 if follower else 0.05)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for switch_number in range(100):
        wrote.clear()
        dbrole_switch.enable_writes(password=project.privileged_password)
        if switch_number % 10 == 0:
            # Now and then, hold the escalation until a follower has logged in
            # (SCRAM is slow here) and written, so that there is something to cut.
            wrote.wait(5)
        dbrole_switch.disable_writes()
    (final,) = project.db.execute("SELECT clock_timestamp()")[0]
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(30)
    connection.close()

    assert not errors
    rows = project.db.execute("SELECT who, app, at FROM audit")
    assert len(rows) == sum(writes)
    assert rows, "no write succeeded while escalated: the test proved nothing"
    assert {who for who, _, _ in rows} == {project.privileged}
    assert all(app.startswith("dbrole-switch escalated ") for _, app, _ in rows)
    assert max(at for _, _, at in rows) < final
    deadline = time.monotonic() + 10
    while len(project.sessions()) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(project.sessions()) == baseline


# --- secrets --------------------------------------------------------------------


def test_the_password_appears_nowhere(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = project.privileged_password
    texts: list[str] = []

    dbrole_switch.enable_writes(password=password)
    texts += [repr(switch.escalation()), repr(switch.aliases()), str(switch.aliases())]
    texts.append(repr(state.current("default")))
    texts.append(repr(settings.DATABASES))
    Note.objects.create(title="x")
    dbrole_switch.disable_writes()
    for attempt in (
        lambda: Note.objects.create(title="y"),
        lambda: dbrole_switch.enable_writes(password=password + "x"),
    ):
        try:
            attempt()
        except Exception as exc:
            texts += [str(exc), repr(exc), str(exc.__cause__), repr(exc.__context__)]

    texts += [record.getMessage() for record in caplog.records]
    texts.append(repr(settings.DATABASES))
    texts.append(repr(vars(connection)))
    assert texts and not [text for text in texts if password in text]
    assert all(e.secret.value is None for e in [switch.escalation()] if e)


def failed_escalation(password: str) -> BaseException:
    try:
        dbrole_switch.enable_writes(password=password)
    except EscalationError as exc:
        return exc
    raise AssertionError("the escalation did not fail")


def test_a_failed_escalation_leaves_the_password_in_no_traceback(
    project: Project,
) -> None:
    mistyped = project.privileged_password + "-typo"

    failure = failed_escalation(mistyped)

    # Error pages and error trackers show each frame's variables, and keep the
    # exceptions chained to it (psycopg's connection errors hold the conninfo).
    assert failure.__traceback__ is not None
    shown = traceback.TracebackException(
        type(failure), failure, failure.__traceback__.tb_next, capture_locals=True
    )
    texts = ["".join(shown.format())]
    chained: BaseException | None = failure
    while chained is not None:
        texts += [repr(chained), *(repr(value) for value in vars(chained).values())]
        texts.append(repr(getattr(chained, "pgconn", None)))
        chained = chained.__cause__ or chained.__context__
    assert not [text for text in texts if mistyped in text]
    assert_read_only_and_usable(project)


def test_an_explicit_lapse_replaces_the_one_in_force(project: Project) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password, lapse=60)

    dbrole_switch.enable_writes(lapse=None)

    escalation = switch.escalation("default")
    assert escalation is not None and escalation.lapse is None
    dbrole_switch.disable_writes()


def test_temp_writes_keeps_the_lapse_of_an_escalation_in_force(
    project: Project,
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password, lapse=60)

    with dbrole_switch.temp_writes():
        Note.objects.create(title="inside")

    escalation = switch.escalation("default")
    assert escalation is not None and escalation.lapse == 60.0
    dbrole_switch.disable_writes()


def test_the_reason_for_disabling_is_logged(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)
    caplog.clear()

    dbrole_switch.disable_writes(reason="lapsed after 15 min idle")

    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "lapsed after 15 min idle" in record.getMessage()


def test_the_password_is_not_in_the_server_log(
    project: Project, pg_server: Any
) -> None:
    dbrole_switch.enable_writes(password=project.privileged_password)
    Note.objects.create(title="x")
    dbrole_switch.disable_writes()

    if pg_server.log_path is None:
        pytest.skip("the server's log is not ours to read")
    assert project.privileged_password not in pg_server.log_path.read_text(
        errors="replace"
    )


# --- subprocesses: terminal, no terminal, psycopg2 ----------------------------


def run_project(
    project: Project, script: str, *, psycopg2: bool = False, **popen: Any
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "DATABASE_URL": project.db.url_for(project.privileged, None),
        "DATABASE_READ_ONLY_URL": project.read_only_url,
        "DJANGO_READ_ONLY": "1",
        "PRIVILEGED_PASSWORD": project.privileged_password,
    }
    prelude = "import sys; sys.modules['psycopg'] = None\n" if psycopg2 else ""
    code = (
        prelude
        + textwrap.dedent(
            """
        import os, django
        django.setup()
        import dbrole_switch
        from django.db import connection
        from testproject.models import Note
        """
        )
        + textwrap.dedent(script)
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **popen,
    )


def test_no_terminal_and_no_password_fails_at_once(project: Project) -> None:
    started = time.monotonic()

    result = run_project(
        project,
        """
        from dbrole_switch.errors import NoTerminalError
        try:
            dbrole_switch.enable_writes()
        except NoTerminalError as exc:
            print("refused:", exc)
        print(Note.objects.count())
        try:
            Note.objects.create(title="x")
        except dbrole_switch.ReadOnlyError:
            print("write refused")
        """,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused: ") and "no terminal" in lines[0]
    assert project.privileged in lines[0] and project.db.name in lines[0]
    assert lines[1:] == ["1", "write refused"]


def test_prompt_on_the_terminal_wrong_password_ctrl_c_then_right(
    project: Project,
) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "DATABASE_URL": project.db.url_for(project.privileged, None),
        "DATABASE_READ_ONLY_URL": project.read_only_url,
        "DJANGO_READ_ONLY": "1",
    }
    script = textwrap.dedent(
        """
        import django
        django.setup()
        import dbrole_switch
        from dbrole_switch.errors import EscalationError
        from testproject.models import Note
        for attempt in range(3):
            try:
                dbrole_switch.enable_writes()
            except EscalationError as exc:
                print("FAILED", exc)
            except KeyboardInterrupt:
                print("INTERRUPTED")
            print("STATE", dbrole_switch.writes_enabled(), Note.objects.count())
        Note.objects.create(title="typed")
        print("WROTE")
        """
    )
    child = pexpect.spawn(
        sys.executable, ["-c", script], env=env, encoding="utf-8", timeout=30
    )

    child.expect(r"Password for role '(\w+)' on database '(\w+)' at ([\w.]+):(\d+)")
    assert child.match.group(1) == project.privileged
    assert child.match.group(2) == project.db.name
    child.sendline("wrong")
    child.expect("FAILED .*password authentication failed")
    child.expect("STATE False 1")
    child.expect("Password for role")
    child.sendintr()
    child.expect("INTERRUPTED")
    child.expect("STATE False 1")
    child.expect("Password for role")
    child.sendline(project.privileged_password)
    child.expect("STATE True 1")
    child.expect("WROTE")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert project.privileged_password not in (child.before or "")


def test_psycopg2_driver(project: Project) -> None:
    pytest.importorskip("psycopg2")

    result = run_project(
        project,
        """
        print(connection.Database.__name__)
        try:
            Note.objects.create(title="x")
        except dbrole_switch.ReadOnlyError as exc:
            from django.db import InternalError, ProgrammingError
            print("refused", isinstance(exc, (InternalError, ProgrammingError)))
        dbrole_switch.enable_writes(password=os.environ["PRIVILEGED_PASSWORD"])
        Note.objects.create(title="written")
        with connection.cursor() as cursor:
            cursor.execute("select current_user")
            print(cursor.fetchone()[0])
        dbrole_switch.disable_writes()
        try:
            Note.objects.create(title="y")
        except dbrole_switch.ReadOnlyError:
            print("refused again")
        print(Note.objects.count())
        """,
        psycopg2=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:5] == [
        "psycopg2",
        "refused True",
        project.privileged,
        "refused again",
        "2",
    ]


POSTGIS_SCRIPT = """
import os, sys
import django
from django.conf import settings
import dj_database_url
import dbrole_switch

privileged = dj_database_url.parse(os.environ["PRIVILEGED_URL"])
privileged["ENGINE"] = "django.contrib.gis.db.backends.postgis"
settings.configure(
    INSTALLED_APPS=["django.contrib.gis", "dbrole_switch"],
    USE_TZ=True,
    DATABASES=dbrole_switch.configure_databases(
        {"default": privileged},
        read_only=True,
        read_only_urls={"default": os.environ["READ_ONLY_URL"]},
    ),
)
django.setup()
from django.contrib.gis.geos import Point
from django.db import connection

INSERT = "INSERT INTO place (at) VALUES (ST_GeomFromEWKT(%s))"
print(connection.settings_dict["ENGINE"], connection.ops.spatial_version[0])
with connection.cursor() as cursor:
    cursor.execute("SELECT ST_AsText(ST_GeomFromEWKT(%s))", [Point(1, 2).ewkt])
    print(cursor.fetchone()[0])
try:
    connection.cursor().execute(INSERT, [Point(3, 4).ewkt])
except dbrole_switch.ReadOnlyError:
    print("refused")
dbrole_switch.enable_writes(password=os.environ["PRIVILEGED_PASSWORD"])
connection.cursor().execute(INSERT, [Point(3, 4).ewkt])
dbrole_switch.disable_writes()
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user, ST_AsText(at) FROM place")
    print(*cursor.fetchone())
"""


def test_postgis_backend(project: Project) -> None:
    import ctypes.util

    if not ctypes.util.find_library("gdal"):
        pytest.skip("GDAL is not installed: Django's PostGIS backend cannot load")
    if not project.db.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
    ):
        pytest.skip(f"PostGIS is not installed for {project.db.server.name}")
    project.db.execute("CREATE EXTENSION postgis")
    with psycopg.connect(project.privileged_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE place (id serial PRIMARY KEY, at geometry)")

    result = subprocess.run(
        [sys.executable, "-c", POSTGIS_SCRIPT],
        env={
            **os.environ,
            "PRIVILEGED_URL": project.db.url_for(project.privileged, None),
            "PRIVILEGED_PASSWORD": project.privileged_password,
            "READ_ONLY_URL": project.read_only_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "dbrole_switch.backends.postgis 3",
        "POINT(1 2)",
        "refused",
        f"{project.read_only} POINT(3 4)",
    ]


@pytest.fixture
def settings_override() -> Iterator[Any]:
    """Set Django settings for one test; undone afterwards."""
    saved: dict[str, Any] = {}
    missing = object()

    def override(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, getattr(settings, key, missing))
            setattr(settings, key, value)

    yield override
    for key, value in saved.items():
        if value is missing:
            delattr(settings, key)
        else:
            setattr(settings, key, value)
