"""``dbrole-switch demo``: the whole job end to end, on a real server.

The demo creates a privileged role and a database, migrates the example Django
project into it, provisions a read-only role, then shows in a separate Django
process started with ``DJANGO_READ_ONLY=1`` that reads work, writes are refused
by the database, and ``enable_writes()`` / ``disable_writes()`` switch roles.
It ends with ``verify``'s verdict and removes everything it made::

    result = run_demo(on_step=print)
    assert result.ok

The Django steps run in child processes so that this process never configures
Django: the demo must be safe to call from anywhere, including a test run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import conninfo, sql

from dbrole_switch.connection import (
    connect,
    describe,
    make_url,
    parse,
    scram_verifier,
    without_password,
)
from dbrole_switch.errors import ConfigurationError, DbroleSwitchError

if TYPE_CHECKING:
    from dbrole_switch.cluster import Cluster

logger = logging.getLogger("dbrole_switch")

EMBEDDED_NAMES = ("demo_app", "demo_ro", "demo")
SETTINGS_MODULE = "example_project.settings"
CHILD_TIMEOUT = 300


class DemoError(DbroleSwitchError):
    """A demo step could not run at all (as opposed to a step that misbehaved)."""


@dataclass
class Step:
    """The outcome of one demo step, as printed."""

    name: str
    title: str
    ok: bool
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "ok": self.ok,
            "details": list(self.details),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class KeptServer:
    """What ``--keep`` leaves behind, and how to use and remove it."""

    database_url: str
    read_only_url: str
    privileged_password: str
    shell_command: str
    stop_command: str
    admin_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Passwords stay out of machine-readable output, as everywhere else.
        return {
            "admin_url": without_password(self.admin_url) if self.admin_url else None,
            "database_url": self.database_url,
            "read_only_url": without_password(self.read_only_url),
            "stop_command": self.stop_command,
        }


@dataclass
class DemoResult:
    """Every step in order; ``ok`` only when each one behaved."""

    steps: list[Step] = field(default_factory=list)
    kept: KeptServer | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "steps": [step.to_json() for step in self.steps],
            "kept": self.kept.to_json() if self.kept else None,
        }


def example_dir() -> Path:
    """The example Django project: shipped in the wheel, or next to a source tree.

    Example::

        subprocess.run([sys.executable, "manage.py", "check"], cwd=example_dir())
    """
    packaged = resources.files("dbrole_switch").joinpath("_example")
    if packaged.is_dir():
        return Path(str(packaged))

    source_tree = Path(__file__).resolve().parent.parent / "example"
    if (source_tree / "manage.py").is_file():
        return source_tree

    raise ConfigurationError(
        "the example project is missing from this installation; "
        "reinstall dbrole-switch from its wheel or a source checkout"
    )


@dataclass
class _Target:
    """The database the demo works in, and the roles it made there."""

    admin_url: str
    dbname: str
    app_role: str
    ro_role: str
    app_password: str = field(repr=False)
    ro_password: str = field(repr=False)

    def admin_db_url(self) -> str:
        return conninfo.make_conninfo(self.admin_url, dbname=self.dbname)

    def url_for(self, role: str, password: str | None) -> str:
        params: dict[str, Any] = dict(parse(self.admin_url))
        params.update(user=role, dbname=self.dbname)
        params.pop("password", None)
        params.pop("passfile", None)
        if password is not None:
            params["password"] = password
        return make_url(params)


class _Stop(Exception):
    """A step that later steps depend on has failed."""


class _Demo:
    """One run: the steps done so far, and what to undo at the end."""

    def __init__(
        self, database_url: str, keep: bool, on_step: Callable[[Step], None] | None
    ) -> None:
        self.database_url = database_url
        self.keep = keep
        self.on_step = on_step
        self.result = DemoResult()
        self.stack = contextlib.ExitStack()
        self.cluster: Cluster | None = None
        self.target: _Target | None = None

    def record(self, step: Step) -> Step:
        self.result.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)
        return step

    @contextlib.contextmanager
    def step(self, name: str, title: str) -> Iterator[Step]:
        """Time a step; an error of ours inside it marks it failed, with the reason."""
        step = Step(name, title, ok=True)
        started = time.perf_counter()
        try:
            yield step
        except DbroleSwitchError as exc:
            step.ok = False
            step.details.append(str(exc))
        except psycopg.Error as exc:
            # Our own statements (creating the demo's role and database): the
            # server's one-line reason says what the connecting role lacks.
            step.ok = False
            step.details.append(
                f"{exc.diag.message_primary or type(exc).__name__} "
                f"(SQLSTATE {exc.sqlstate}); the demo needs a role with CREATEDB "
                "and CREATEROLE"
            )
        except Exception as exc:
            # A demo reports every failure as a FAIL line; it never crashes.
            step.ok = False
            step.details.append(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            step.seconds = time.perf_counter() - started
        self.record(step)
        if not step.ok:
            raise _Stop

    def run(self) -> None:
        with self.stack:
            try:
                project = example_dir()
                target = self.start()
                self.migrate(project, target)
                self.provision(target)
                self.django_steps(project, target)
                self.verify(target)
            except _Stop:
                pass
            if self.keep and self.target is not None:
                self.result.kept = self.detach(example_dir(), self.target)

    def start(self) -> _Target:
        if self.database_url:
            where = describe(self.database_url)
            with self.step("server", f"use the server at {where}") as step:
                with connect(self.database_url, autocommit=True) as conn:
                    version = conn.info.server_version // 10000
                step.details.append(f"PostgreSQL {version}")
            suffix = secrets.token_hex(3)
            app_role, ro_role = f"demo_app_{suffix}", f"demo_ro_{suffix}"
            dbname = f"dbrole_switch_demo_{suffix}"
            admin_url = self.database_url
        else:
            with self.step("server", "start a throwaway PostgreSQL") as step:
                from dbrole_switch.cluster import Cluster

                self.cluster = cluster = Cluster()
                cluster.start()
                self.stack.callback(cluster.stop)
                step.title = (
                    f"start PostgreSQL {cluster.version} ({cluster.binaries.source})"
                )
                step.details.append(f"data in {cluster.base}, port {cluster.port}")
            app_role, ro_role, dbname = EMBEDDED_NAMES
            admin_url = cluster.url

        target = _Target(
            admin_url,
            dbname=dbname,
            app_role=app_role,
            ro_role=ro_role,
            app_password=secrets.token_urlsafe(18),
            ro_password=secrets.token_urlsafe(18),
        )
        self.target = target
        if not self.keep:
            # Registered first, so that a half-done setup is undone as well.
            self.stack.callback(self.cleanup, target)
        with self.step(
            "setup",
            f"create the privileged role {app_role} and the database {dbname}",
        ):
            _create_database(target)
        return target

    def cleanup(self, target: _Target) -> None:
        with contextlib.suppress(_Stop), self.step("cleanup", "clean up") as step:
            if self.cluster is None:
                _drop_database(target)
                step.details.append(
                    f"dropped the database {target.dbname} and the roles "
                    f"{target.app_role}, {target.ro_role}"
                )
                return

            base = self.cluster.base
            self.cluster.stop()
            if base is not None and base.exists():
                raise DemoError(f"{base} is still there after stopping the server")
            step.details.append("server stopped, temporary files removed")

    def migrate(self, project: Path, target: _Target) -> None:
        with self.step(
            "migrate", f"migrate the example project as {target.app_role}"
        ) as step:
            env = _child_env(
                project,
                DATABASE_URL=target.url_for(target.app_role, target.app_password),
            )
            out = _manage(project, env, "migrate", "--noinput")
            applied = sum(1 for line in out.splitlines() if "Applying " in line)
            out = _manage(project, env, "loaddata", "sample")
            step.details.append(f"{applied} migrations applied; {out.strip()}")

    def provision(self, target: _Target) -> None:
        with self.step(
            "provision", f"provision the read-only role {target.ro_role}"
        ) as step:
            from dbrole_switch.provision import provision

            result = provision(
                target.admin_db_url(), target.ro_role, password=target.ro_password
            )
            step.details.append(
                f"{'created' if result.created else 'updated'} {result.role}: "
                f"{len(result.changes)} changes in schemas "
                f"{', '.join(result.schemas)}; future tables of "
                f"{', '.join(result.owners)} stay readable"
            )
            step.details.extend(f"warning: {item.message}" for item in result.warnings)
            step.details.append(
                "the same from a shell: dbrole-switch provision "
                f"{target.ro_role} --database-url "
                f"{without_password(target.admin_db_url())}"
            )

    def verify(self, target: _Target) -> None:
        with self.step("verify", f"verify {target.ro_role}") as step:
            from dbrole_switch.verify import verify

            report = verify(target.admin_db_url(), target.ro_role)
            errors, warnings = list(report.errors), list(report.warnings)
            step.ok = bool(report.ok)
            step.details.append(
                f"{len(errors)} error{'s' * (len(errors) != 1)}, "
                f"{len(warnings)} warning{'s' * (len(warnings) != 1)}"
            )
            step.details.extend(
                f"error: {item.message} (fix: {item.fix})" for item in errors
            )
            step.details.extend(f"warning: {item.message}" for item in warnings)
            step.details.extend(
                f"not checked: {item.check} ({item.reason})"
                for item in report.not_checked
            )

    def django_steps(self, project: Path, target: _Target) -> None:
        env = _child_env(
            project,
            DJANGO_READ_ONLY="1",
            DATABASE_URL=target.url_for(target.app_role, None),
            DATABASE_READ_ONLY_URL=target.url_for(target.ro_role, target.ro_password),
        )
        given = json.dumps(
            {
                "password": target.app_password,
                "app_role": target.app_role,
                "ro_role": target.ro_role,
            }
        )
        expected = list(CHILD_STEPS)
        child = subprocess.Popen(
            [sys.executable, "-c", "from dbrole_switch.demo import _child; _child()"],
            cwd=project,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdin is not None and child.stdout is not None
            # The password travels on a pipe: never in argv or the environment.
            child.stdin.write(given + "\n")
            child.stdin.close()
            for line in child.stdout:
                try:
                    step = Step(**json.loads(line))
                except (ValueError, TypeError):
                    sys.stderr.write(line)
                    continue
                if step.name in expected:
                    expected.remove(step.name)
                self.record(step)
            code = child.wait(timeout=CHILD_TIMEOUT)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

        if expected:
            self.record(
                Step(
                    "django",
                    "the read-only Django process",
                    ok=False,
                    details=[f"exited with code {code} before: {', '.join(expected)}"],
                )
            )
            raise _Stop

    def detach(self, project: Path, target: _Target) -> KeptServer:
        import shlex

        if self.cluster is not None and self.cluster.base is not None:
            stop = self.cluster.detach()
        else:
            stop = shlex.join(
                [
                    "psql",
                    without_password(target.admin_url),
                    "-c",
                    f'DROP DATABASE "{target.dbname}" WITH (FORCE)',
                    "-c",
                    f'DROP ROLE "{target.ro_role}", "{target.app_role}"',
                ]
            )
        self.stack.pop_all()
        database_url = target.url_for(target.app_role, None)
        read_only_url = target.url_for(target.ro_role, target.ro_password)
        # Variable assignments before the command, not `env`: the shell puts them
        # in the child's environment, so the password is in no process's argv.
        assignments = {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DJANGO_READ_ONLY": "1",
            "DATABASE_URL": database_url,
            "DATABASE_READ_ONLY_URL": read_only_url,
        }
        shell = " ".join(
            [
                *(
                    f"{name}={shlex.quote(value)}"
                    for name, value in assignments.items()
                ),
                shlex.join([sys.executable, str(project / "manage.py"), "shell"]),
            ]
        )
        return KeptServer(
            # A throwaway cluster's superuser, so that provision, rotate-password
            # and drop can be tried on it too.
            admin_url=self.cluster.url if self.cluster is not None else None,
            database_url=database_url,
            read_only_url=read_only_url,
            privileged_password=target.app_password,
            shell_command=shell,
            stop_command=stop,
        )


def run_demo(
    database_url: str = "",
    *,
    keep: bool = False,
    on_step: Callable[[Step], None] | None = None,
) -> DemoResult:
    """Run every demo step; *on_step* sees each one as soon as it is done.

    With an empty *database_url* a throwaway server is started in a temporary
    directory; otherwise the demo works in a new database on that server (the
    role needs CREATEDB and CREATEROLE), and drops it and its roles at the end.
    With *keep*, nothing is removed and ``result.kept`` says how to use it.

    Example::

        result = run_demo(os.environ.get("DATABASE_URL", ""), on_step=print)
        sys.exit(result.exit_code)
    """
    demo = _Demo(database_url, keep, on_step)
    started = time.perf_counter()
    try:
        demo.run()
    finally:
        demo.result.seconds = time.perf_counter() - started
    return demo.result


def _create_database(target: _Target) -> None:
    with connect(target.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(target.app_role),
                sql.Literal(scram_verifier(conn, target.app_role, target.app_password)),
            )
        )
        superuser = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not (superuser and superuser[0]):
            # A non-superuser admin (as on managed services) may grant on the
            # application's tables only as a member of the role that owns them.
            conn.execute(
                sql.SQL("GRANT {} TO CURRENT_USER").format(
                    sql.Identifier(target.app_role)
                )
            )
        conn.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.dbname))
        )

    # The admin owns the database and lets the application role create its tables
    # in "public": this also works where the admin is not a superuser.
    with connect(target.admin_db_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("GRANT CREATE, USAGE ON SCHEMA public TO {}").format(
                sql.Identifier(target.app_role)
            )
        )


def _drop_database(target: _Target) -> None:
    with connect(target.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target.dbname)
            )
        )
        for role in (target.ro_role, target.app_role):
            try:
                conn.execute(
                    sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
                )
            except psycopg.Error as exc:
                raise DemoError(
                    f"cannot drop role {role}: {exc.diag.message_primary}"
                ) from None


def _child_env(project: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_READ_ONLY", "DATABASE_READ_ONLY_URL"))
    }
    path = env.get("PYTHONPATH")
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=os.pathsep.join([str(project), *([path] if path else [])]),
        # The example project may live in a read-only site-packages directory.
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def _manage(project: Path, env: dict[str, str], *args: str) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise DemoError(f"manage.py {args[0]} took over {CHILD_TIMEOUT}s") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise DemoError(
            f"manage.py {args[0]} failed: {lines[-1] if lines else done.returncode}"
        )
    return done.stdout


# The child process, with DJANGO_READ_ONLY=1. Each step is one JSON line on stdout.

CHILD_STEPS = (
    "read",
    "write-refused",
    "enable-writes",
    "write",
    "disable-writes",
    "write-refused-again",
)


def _child() -> None:
    """Entry point of the read-only Django process; not a public API."""
    import django

    given = json.loads(sys.stdin.readline())
    django.setup()
    # This process is the demo's own program, so it may show what the library
    # logs: the WARNING of each switch belongs to the step that caused it.
    handler = _StepLog()
    logger.addHandler(handler)
    failures = 0
    for name, title, action in _child_actions(given):
        step = handler.step = Step(name, title, ok=True)
        started = time.perf_counter()
        try:
            action(step)
        except Exception as exc:
            step.ok = False
            step.details.append(f"{type(exc).__name__}: {_first_line(exc)}")
        step.seconds = time.perf_counter() - started
        failures += not step.ok
        print(json.dumps(step.to_json()), flush=True)
    sys.exit(1 if failures else 0)


class _StepLog(logging.Handler):
    """Adds WARNING and worse records of the library to the current step."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.step: Step | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.step is not None:
            self.step.details.append(f"logged: {record.getMessage()}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _child_actions(
    given: dict[str, str],
) -> list[tuple[str, str, Callable[[Step], None]]]:
    from django.apps import apps
    from django.db import DatabaseError, connection

    import dbrole_switch

    book_model: Any = apps.get_model("library", "Book")
    tag_model: Any = apps.get_model("library", "Tag")
    app_role, ro_role = given["app_role"], given["ro_role"]
    created: list[Any] = []

    def current_user() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            row = cursor.fetchone()
        assert row is not None
        return str(row[0])

    def expect_user(step: Step, role: str) -> None:
        user = current_user()
        step.details.append(f"connected as {user}")
        if user != role:
            step.ok = False
            step.details.append(f"expected {role}")

    def read(step: Step) -> None:
        books = list(
            book_model.objects.select_related("author").prefetch_related("tags")
        )
        expect_user(step, ro_role)
        if not books:
            step.ok = False
            step.details.append("no books: the sample data is missing")
            return
        first = books[0]
        tags = ", ".join(tag.name for tag in first.tags.all())
        step.details.append(
            f'{len(books)} books, e.g. "{first.title}" by {first.author} ({tags})'
        )

    def refused(step: Step, write: Callable[[], object]) -> None:
        before = tag_model.objects.count()
        try:
            write()
        except DatabaseError as exc:
            message = _first_line(exc)
            step.details.append(message)
            friendly = isinstance(exc, dbrole_switch.ReadOnlyError)
            if not friendly or "enable_writes" not in message or ro_role not in message:
                step.ok = False
                step.details.append(
                    "expected a ReadOnlyError naming the read-only role and "
                    "enable_writes()"
                )
        else:
            step.ok = False
            step.details.append("the write succeeded in read-only mode")
        if tag_model.objects.count() != before:
            step.ok = False
            step.details.append("the number of tags changed")

    def enable(step: Step) -> None:
        dbrole_switch.enable_writes(password=given["password"])
        expect_user(step, app_role)

    def write(step: Step) -> None:
        tag = tag_model.objects.create(name="written by the demo")
        created.append(tag)
        step.details.append(f"created Tag #{tag.pk} (a serial column)")

    def disable(step: Step) -> None:
        dbrole_switch.disable_writes()
        expect_user(step, ro_role)

    def delete_created() -> object:
        pk = created[0].pk if created else 1
        return tag_model.objects.filter(pk=pk).delete()

    return [
        ("read", "read as the read-only role", read),
        (
            "write-refused",
            "a write in read-only mode is refused",
            lambda step: refused(
                step, lambda: tag_model.objects.create(name="refused")
            ),
        ),
        ("enable-writes", "enable_writes(password=...)", enable),
        ("write", "a write after enable_writes() succeeds", write),
        ("disable-writes", "disable_writes()", disable),
        (
            "write-refused-again",
            "a write after disable_writes() is refused",
            lambda step: refused(step, delete_created),
        ),
    ]
