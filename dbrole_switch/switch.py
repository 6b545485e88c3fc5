"""Enable and disable writes inside a running process.

How the switch works, and why this way
--------------------------------------

``configure_databases()`` puts each alias in read-only mode on a backend of ours
(:mod:`dbrole_switch.backends`), a subclass of Django's PostgreSQL or PostGIS
wrapper that reads the role to log in as from this module's state *when it
connects*. Escalation therefore never writes the privileged password into
``settings.DATABASES``, which every thread shares and which ends up in error
reports; it lives in one :class:`~dbrole_switch.state.Secret` until
de-escalation drops it.

``enable_writes()`` refuses inside a transaction, obtains the password, opens a
connection as the privileged role and checks ``current_user`` before anything
changes; any failure leaves the state as it was. Only then does it swap the
alias's state in one step, close the calling thread's connection, the alias's
pool and the connection of asgiref's thread (where a shell's async ORM calls
run), and hand the verified connection to the calling thread so the first query
does not log in twice.

The switch is process-wide: from then on, new connections in every thread follow
the current mode. Read-only connections already open in other threads keep their
role until they close.

``disable_writes()`` must be stronger: no connection escalated earlier may write
afterwards, whichever thread holds it. Two mechanisms, because each alone leaves
a gap:

- every escalated session carries the escalation's token in its
  ``application_name``; de-escalation asks the server to end every session with
  that token (``pg_terminate_backend``, allowed on one's own role's sessions) and
  waits until they are gone. This covers cursors held across the switch and a
  statement already past any client-side check;
- a token check in the backend's ``ensure_connection()`` (one attribute test,
  nothing for a read-only connection) closes a stale connection before its next
  statement, so the thread holding it reconnects read-only instead of hitting a
  dead session. A connection that raced a switch while logging in is caught by
  the same comparison right after connecting.

Refusals of the read-only role are turned into :class:`ReadOnlyError` only on the
error path of Django's own error wrapper, so reads pay nothing.

A dropped escalated session (the server restarted, a DBA ended it) ends the
escalation for the whole process: the next query, or Django's health check
(``CONN_HEALTH_CHECKS``), notices, the connection reconnects read-only, and the
password must be given again. Exception: with ``OPTIONS["pool"]`` and health
checks on, psycopg's pool replaces a dead connection by itself, still escalated.

Limits: Python cannot wipe a string, so "forgetting" the password means dropping
every reference we hold. Only asgiref's shared thread (used by a shell) is closed
on a switch; other threads, including the per-request threads of an ASGI server,
keep their read-only connections until they close. Ending escalated sessions on
the server needs the privileged role to log in once more during
``disable_writes()``, unless the calling thread still holds one; if it cannot, a
WARNING says so and the token check alone protects Django's connections.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import utils as db_utils

from dbrole_switch import state
from dbrole_switch.backends.base import is_broken, release
from dbrole_switch.errors import (
    DbroleSwitchError,
    EscalationError,
    UsageError,
    libpq_reason,
)
from dbrole_switch.settings import SETTINGS_KEY

if TYPE_CHECKING:
    from dbrole_switch.backends.base import SwitchMixin

__all__ = [
    "AliasState",
    "Escalation",
    "EscalationError",
    "PasswordRequest",
    "ReadOnlyError",
    "WritesDisabledError",
    "add_listener",
    "aliases",
    "disable_writes",
    "enable_writes",
    "escalation",
    "read_only_mode",
    "remove_listener",
    "temp_writes",
    "writes_enabled",
]

logger = logging.getLogger("dbrole_switch")

Escalation = state.Escalation

DEFAULT_LAPSE = 15 * 60.0
TERMINATE_WAIT = 5.0
ASYNC_THREAD_WAIT = 5.0


class _FromSetting:
    def __repr__(self) -> str:
        return "<DBROLE_SWITCH_LAPSE setting>"


FROM_SETTING: Any = _FromSetting()


class ReadOnlyError(DbroleSwitchError, db_utils.DatabaseError):
    """The database refused a write because the alias is in read-only mode.

    Each instance is also of the Django class the database error maps to
    (``ProgrammingError`` for a missing privilege, ``InternalError`` for a
    read-only transaction), so existing ``except`` clauses keep working.
    """


class ReadOnlyProgrammingError(ReadOnlyError, db_utils.ProgrammingError):
    """A write refused for lack of privilege (SQLSTATE 42501)."""


class ReadOnlyInternalError(ReadOnlyError, db_utils.InternalError):
    """A write refused in a read-only transaction (SQLSTATE 25006)."""


_READ_ONLY_CLASSES: dict[type[Exception], type[ReadOnlyError]] = {
    db_utils.ProgrammingError: ReadOnlyProgrammingError,
    db_utils.InternalError: ReadOnlyInternalError,
}


class WritesDisabledError(DbroleSwitchError, db_utils.OperationalError):
    """An escalated connection was cut because its escalation ended."""


@dataclass(frozen=True)
class PasswordRequest:
    """What a ``DBROLE_SWITCH_PASSWORD_PROVIDER`` callable is asked for."""

    alias: str
    role: str
    dbname: str
    host: str
    port: str


@dataclass(frozen=True)
class AliasState:
    """One read-only-mode alias, as the shell shows it. Never holds a password."""

    alias: str
    read_only_role: str
    privileged_role: str
    dbname: str
    host: str
    port: str
    escalation: Escalation | None

    @property
    def escalated(self) -> bool:
        return self.escalation is not None


def _wrapper(alias: str) -> SwitchMixin:
    """This thread's wrapper of a read-only-mode alias (always one of ours)."""
    return cast("SwitchMixin", connections[alias])


def _managed(alias: str) -> dict[str, Any] | None:
    config = connections.settings[alias].get(SETTINGS_KEY)
    if not config or config.get("EXEMPT"):
        return None
    return config  # type: ignore[no-any-return]


def _alias_state(alias: str) -> AliasState:
    settings_dict = connections.settings[alias]
    privileged = settings_dict[SETTINGS_KEY]
    return AliasState(
        alias=alias,
        read_only_role=str(settings_dict.get("USER") or ""),
        privileged_role=str(privileged["USER"] or ""),
        dbname=str(privileged["NAME"] or ""),
        host=str(privileged["HOST"] or "localhost"),
        port=str(privileged["PORT"] or "5432"),
        escalation=state.current(alias),
    )


def aliases() -> list[AliasState]:
    """Every alias in read-only mode, escalated or not (exempt aliases are left out).

    >>> [(a.alias, a.escalated) for a in aliases()]  # doctest: +SKIP
    [('default', False)]
    """
    return [_alias_state(alias) for alias in connections.settings if _managed(alias)]


def read_only_mode() -> bool:
    """True when ``configure_databases()`` put at least one alias in read-only mode."""
    return any(_managed(alias) for alias in connections.settings)


def escalation(alias: str = DEFAULT_DB_ALIAS) -> Escalation | None:
    """The escalation in force on *alias* (role, since, lapse), or None."""
    return state.current(alias)


def add_listener(listener: Callable[[AliasState], None]) -> None:
    """Call *listener* with the new :class:`AliasState` after each switch.

    Listeners are held strongly: a lambda stays registered until removed.
    """
    state.add_listener(listener)


def remove_listener(listener: Callable[[AliasState], None]) -> None:
    state.remove_listener(listener)


def _targets(using: str | Iterable[str] | None) -> list[str]:
    if using is None:
        return [alias for alias in connections.settings if _managed(alias)]

    names = [using] if isinstance(using, str) else list(using)
    unknown = [name for name in names if name not in connections.settings]
    if unknown:
        raise UsageError(
            f"no database alias {', '.join(map(repr, unknown))} in DATABASES "
            f"(aliases: {', '.join(map(repr, connections.settings))})"
        )
    return [name for name in names if _managed(name)]


def writes_enabled(using: str | Iterable[str] | None = None) -> bool:
    """True when writes are possible on *using* (every read-only-mode alias if None).

    An alias that is not in read-only mode counts as writable::

        if not writes_enabled():
            enable_writes()
    """
    return all(state.current(alias) is not None for alias in _targets(using))


def _lapse_seconds(lapse: Any) -> float | None:
    if lapse is FROM_SETTING:
        lapse = getattr(settings, "DBROLE_SWITCH_LAPSE", DEFAULT_LAPSE)
    if lapse is None:
        return None
    if isinstance(lapse, datetime.timedelta):
        return lapse.total_seconds()
    if isinstance(lapse, (int, float)) and not isinstance(lapse, bool) and lapse > 0:
        return float(lapse)
    raise UsageError(
        f"lapse={lapse!r} is not a number of seconds, a timedelta or None "
        "(DBROLE_SWITCH_LAPSE takes the same values)"
    )


def _open_transaction(alias: str) -> bool:
    wrapper = connections[alias]
    return bool(
        wrapper.in_atomic_block
        or (wrapper.connection is not None and not wrapper.autocommit)
    )


def _password_provider() -> Callable[[PasswordRequest], str | None] | None:
    provider = getattr(settings, "DBROLE_SWITCH_PASSWORD_PROVIDER", None)
    if isinstance(provider, str):
        from django.utils.module_loading import import_string

        provider = import_string(provider)
    return provider


def _obtain_password(alias_state: AliasState) -> str:
    provider = _password_provider()
    if provider is not None:
        password = provider(
            PasswordRequest(
                alias=alias_state.alias,
                role=alias_state.privileged_role,
                dbname=alias_state.dbname,
                host=alias_state.host,
                port=alias_state.port,
            )
        )
        if password is not None:
            return password

    from dbrole_switch.prompt import ask_password

    return ask_password(
        role=alias_state.privileged_role,
        dbname=alias_state.dbname,
        host=alias_state.host,
        port=alias_state.port,
        alias=alias_state.alias,
    )


def _reason(exc: BaseException) -> str:
    return libpq_reason(str(exc)) if str(exc).strip() else type(exc).__name__


def _verify(alias_state: AliasState, candidate: Escalation) -> Any:
    """Log in as the privileged role and check it; return the live connection."""
    wrapper = _wrapper(alias_state.alias)
    params = wrapper.dbrole_privileged_params(candidate)
    params.setdefault("connect_timeout", 10)
    what = (
        f"cannot enable writes on alias {alias_state.alias!r} as role "
        f"{alias_state.privileged_role!r} ({alias_state.dbname} on "
        f"{alias_state.host}:{alias_state.port})"
    )
    pooled = bool(wrapper.settings_dict["OPTIONS"].get("pool"))
    # The error is raised outside the except clauses, and the parameters are
    # emptied: psycopg's connection errors keep the conninfo, password included,
    # and tracebacks (error pages, error trackers) keep chained errors and locals.
    failure = None
    raw: Any = None
    try:
        raw = wrapper.dbrole_connect(params, pooled=pooled)
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_setting('transaction_read_only')"
            )
            user, read_only = cursor.fetchone()
        raw.rollback()
    except wrapper.Database.Error as exc:
        failure = _reason(exc)
    except BaseException:
        if raw is not None:
            raw.close()
        raise
    finally:
        params.clear()
    if failure is not None:
        if raw is not None:
            raw.close()
        raise EscalationError(f"{what}: {failure}; writes stay disabled")

    if user != alias_state.privileged_role or read_only != "off":
        raw.close()
        found = (
            f"the session runs as {user!r}"
            if user != alias_state.privileged_role
            else "its sessions are read-only (default_transaction_read_only, or a "
            "standby server)"
        )
        raise EscalationError(f"{what}: {found}; writes stay disabled")

    if pooled:
        raw.close()
        return None
    return raw


def _close_pool(wrapper: Any) -> None:
    # Django 5.1+ keeps one pool per alias, created with the credentials of the
    # moment; it must go so that the next one is created with the new ones.
    pools = getattr(type(wrapper), "_connection_pools", None)
    if pools and wrapper.alias in pools:
        wrapper.close_pool()


def _close_here(alias: str) -> None:
    wrapper = connections[alias]
    if wrapper.connection is not None and not _open_transaction(alias):
        wrapper.close()


def _close_in_async_thread(alias: str) -> None:
    """Close *alias* in the thread where asgiref runs a shell's async ORM calls."""
    try:
        from asgiref.sync import SyncToAsync
    except ImportError:  # pragma: no cover - asgiref is a Django dependency
        return

    executor = SyncToAsync.single_thread_executor
    threads = getattr(executor, "_threads", ())
    if not threads or threading.get_ident() in {t.ident for t in threads}:
        return

    future = executor.submit(_close_here, alias)
    try:
        future.result(timeout=ASYNC_THREAD_WAIT)
    except Exception as exc:
        logger.warning(
            "could not close alias %r in asgiref's thread (%s); its connection "
            "keeps its role until it closes",
            alias,
            exc,
        )


def _notify(alias: str) -> None:
    alias_state = _alias_state(alias)
    for listener in state.listeners():
        try:
            listener(alias_state)
        except Exception:
            logger.warning("dbrole-switch listener %r failed", listener, exc_info=True)


def enable_writes(
    using: str | Iterable[str] | None = None,
    *,
    password: str | None = None,
    lapse: Any = FROM_SETTING,
) -> None:
    """Let this process write on *using* (every read-only-mode alias if None).

    The password comes from *password*, else ``DBROLE_SWITCH_PASSWORD_PROVIDER``,
    else a hidden prompt. *lapse* (seconds, a timedelta, or None for never; by
    default the ``DBROLE_SWITCH_LAPSE`` setting, 15 minutes) is recorded for the
    shell, which ends an idle escalation. On any failure nothing changes::

        enable_writes()
        Order.objects.filter(pk=42).update(status="refunded")
        disable_writes()
    """
    targets = _targets(using)
    lapse_seconds = _lapse_seconds(lapse)
    pending = [alias for alias in targets if state.current(alias) is None]
    for alias in pending:
        if _open_transaction(alias):
            raise EscalationError(
                f"cannot enable writes on alias {alias!r} inside a transaction "
                "(atomic block, or autocommit off): finish it first; writes "
                "stay disabled"
            )
    for alias in set(targets) - set(pending):
        current = state.current(alias)
        if lapse is not FROM_SETTING and current is not None:
            # An explicit lapse on an escalated alias replaces the one in force
            # (e.g. %writes on --no-lapse after a plain enable_writes()).
            state.install(dataclasses.replace(current, lapse=lapse_seconds))
        _follow(alias)

    candidates: list[Escalation] = []
    verified: list[tuple[Escalation, Any]] = []
    passwords: dict[tuple[str, str, str], str] = {}
    try:
        # Asked before taking the lock: a prompt may wait for minutes, and other
        # threads need the lock to fail closed when a connection drops.
        for alias in pending:
            alias_state = _alias_state(alias)
            key = (alias_state.privileged_role, alias_state.host, alias_state.port)
            secret = password
            if secret is None:
                secret = passwords.get(key) or _obtain_password(alias_state)
            passwords[key] = secret
            candidates.append(
                state.new_escalation(
                    alias, alias_state.privileged_role, secret, lapse_seconds
                )
            )

        with state.lock:
            for candidate in candidates:
                if state.current(candidate.alias) is not None:
                    # Another thread escalated while we asked: follow it.
                    candidate.secret.forget()
                    _follow(candidate.alias)
                    continue
                raw = _verify(_alias_state(candidate.alias), candidate)
                verified.append((candidate, raw))
            for candidate, raw in verified:
                _switch_on(candidate, raw)
    except BaseException:
        for candidate in candidates:
            if state.current(candidate.alias) is not candidate:
                candidate.secret.forget()
        for candidate, raw in verified:
            if raw is not None and state.current(candidate.alias) is not candidate:
                raw.close()
        raise
    finally:
        # Tracebacks keep this frame's variables.
        password = secret = None
        passwords.clear()


def _follow(alias: str) -> None:
    """Drop this thread's read-only connection so that it follows the escalation.

    Only when no transaction would be lost; otherwise the thread keeps its role
    until its connection closes.
    """
    wrapper = _wrapper(alias)
    if wrapper._dbrole_token is None and not _open_transaction(alias):
        wrapper.close()


def _switch_on(candidate: Escalation, raw: Any) -> None:
    alias = candidate.alias
    wrapper = _wrapper(alias)
    wrapper.close()
    state.install(candidate)
    _close_pool(wrapper)
    if raw is not None:
        wrapper._dbrole_handover = (raw, candidate.token)
    _close_in_async_thread(alias)
    alias_state = _alias_state(alias)
    logger.warning(
        "writes ENABLED on database alias %r: role %r on %s at %s:%s, by OS user %r",
        alias,
        candidate.role,
        alias_state.dbname,
        alias_state.host,
        alias_state.port,
        candidate.os_user,
    )
    _notify(alias)


def disable_writes(
    using: str | Iterable[str] | None = None, *, reason: str = "disable_writes()"
) -> None:
    """Go back to the read-only role on *using* (every read-only-mode alias if None).

    Escalated sessions are ended on the server, in every thread, and the password
    is forgotten. A transaction still open on an escalated connection is rolled
    back. *reason* goes into the WARNING log line (the shell says "lapsed")::

        disable_writes()
    """
    targets = _targets(using)
    with state.lock:
        for alias in targets:
            current = state.current(alias)
            if current is not None:
                _switch_off(current, reason)


def _switch_off(current: Escalation, why: str) -> None:
    alias = current.alias
    wrapper = _wrapper(alias)
    rolled_back = _open_transaction(alias) and wrapper._dbrole_token == current.token
    state.remove(alias)
    try:
        _end_escalated_sessions(wrapper, current)
    finally:
        current.secret.forget()
        handover, wrapper._dbrole_handover = wrapper._dbrole_handover, None
        if handover is not None:
            with contextlib.suppress(Exception):
                handover[0].close()
        if wrapper.connection is not None and wrapper._dbrole_token is not None:
            wrapper._dbrole_token = None
            wrapper.close()
        _close_pool(wrapper)
        _close_in_async_thread(alias)

    logger.warning(
        "writes DISABLED on database alias %r (%s): back to read-only role %r, "
        "by OS user %r%s",
        alias,
        why,
        connections.settings[alias].get("USER"),
        state.os_user(),
        "; the open transaction was rolled back" if rolled_back else "",
    )
    _notify(alias)


_SESSIONS = (
    "FROM pg_stat_activity WHERE application_name LIKE %s AND pid <> pg_backend_pid()"
)


def _end_escalated_sessions(wrapper: Any, current: Escalation) -> None:
    """End every session of *current* on the server and wait until they are gone."""
    pattern = f"{state.ESCALATED_APPLICATION_PREFIX}{current.token} %"
    raw = None
    handover = wrapper._dbrole_handover
    own = (
        wrapper.connection is not None
        and wrapper._dbrole_token == current.token
        and not _open_transaction(wrapper.alias)
        and not is_broken(wrapper.connection)
    )
    try:
        if own:
            raw = wrapper.connection
        elif handover is not None and handover[1] == current.token:
            # Verified by enable_writes() and never used: an escalated session
            # in autocommit-free state; its own pid is spared by the query.
            own = True
            raw = handover[0]
            raw.autocommit = True
        else:
            params = wrapper.dbrole_privileged_params(
                current, application_name="dbrole-switch cleanup"
            )
            params["connect_timeout"] = 5
            raw = wrapper.Database.connect(**params)
            raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT pg_terminate_backend(pid) {_SESSIONS}", [pattern])
            deadline = time.monotonic() + TERMINATE_WAIT
            while True:
                cursor.execute(f"SELECT count(*) {_SESSIONS}", [pattern])
                (left,) = cursor.fetchone()
                if not left or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
    except Exception as exc:
        logger.warning(
            "could not end the escalated sessions of alias %r on the server (%s); "
            "connections in other threads are closed on their next use instead",
            wrapper.alias,
            _reason(exc),
        )
    finally:
        if raw is not None and not own:
            with contextlib.suppress(Exception):
                raw.close()


@contextlib.contextmanager
def temp_writes(
    using: str | Iterable[str] | None = None, *, password: str | None = None
) -> Iterator[None]:
    """Enable writes for a block (or a decorated function), then restore the state.

    Aliases already escalated on entry stay escalated on exit::

        with temp_writes():
            Invoice.objects.filter(pk=7).delete()
    """
    targets = _targets(using)
    before = {alias: state.current(alias) for alias in targets}
    pending = [alias for alias in targets if before[alias] is None]
    if len(pending) < len(targets):
        # Already escalated: this thread follows, and the lapse in force stays.
        enable_writes([alias for alias in targets if alias not in pending])
    if pending:
        enable_writes(pending, password=password, lapse=None)
    try:
        yield
    finally:
        ours = [
            alias
            for alias in targets
            if before[alias] is None and state.current(alias) is not None
        ]
        if ours:
            disable_writes(ours)


def raise_read_only_error(wrapper: Any, exc: BaseException, traceback: Any) -> NoReturn:
    """Raise the friendly form of the read-only role's refusal *exc*."""
    django_class: type[Exception] = db_utils.DatabaseError
    for candidate in (db_utils.InternalError, db_utils.ProgrammingError):
        if isinstance(exc, getattr(wrapper.Database, candidate.__name__)):
            django_class = candidate
            break
    friendly = _READ_ONLY_CLASSES.get(django_class, ReadOnlyError)
    call = (
        "enable_writes()"
        if wrapper.alias == DEFAULT_DB_ALIAS
        else (f"enable_writes({wrapper.alias!r})")
    )
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    role = wrapper.settings_dict.get("USER")
    if state.current(wrapper.alias) is None:
        way_out = f"call dbrole_switch.{call} to allow writes"
    else:
        # Writes are on, but this thread's connection predates the escalation:
        # open connections keep their role until they close.
        way_out = (
            f"writes were enabled after this thread connected; close its "
            f"connection (connections[{wrapper.alias!r}].close()) to reconnect, "
            f"or call dbrole_switch.{call} from this thread"
        )
    wrapper.errors_occurred = True
    raise friendly(
        f"{first}: database alias {wrapper.alias!r} is read-only (connected as "
        f"read-only role {role!r}); {way_out}"
    ).with_traceback(traceback) from exc


def connection_lost(wrapper: Any, exc: BaseException, traceback: Any) -> None:
    """The server dropped *wrapper*'s connection: fail closed and reconnect next time.

    A dropped escalated session ends the escalation (a restarted server, or a DBA
    ending the session, calls for the password again). Outside a transaction the
    dead connection is closed so that the next query reconnects, read-only.
    """
    token = wrapper._dbrole_token
    wrapper._dbrole_token = None
    if not _open_transaction(wrapper.alias):
        raw, wrapper.connection = wrapper.connection, None
        with contextlib.suppress(Exception):
            release(raw)

    if token is None:
        return

    reason = _reason(exc)
    if end_lost_escalation(wrapper.alias, token, f"connection lost: {reason}"):
        raise WritesDisabledError(
            f"the connection of alias {wrapper.alias!r} was lost while writes were "
            f"enabled ({reason}); writes are disabled again: call "
            "dbrole_switch.enable_writes() to re-enable them"
        ).with_traceback(traceback) from exc

    raise WritesDisabledError(
        f"writes on alias {wrapper.alias!r} were disabled while this statement ran "
        f"({reason}); it did not complete"
    ).with_traceback(traceback) from exc


def end_lost_escalation(alias: str, token: str, why: str) -> bool:
    """End escalation *token* of *alias*, one of whose sessions died.

    Returns False when that escalation had already ended.
    """
    if token != state.current_token(alias) or not state.lock.acquire(timeout=10):
        return False

    try:
        current = state.current(alias)
        if current is not None and current.token == token:
            _switch_off(current, why)
    finally:
        state.lock.release()
    return True


def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASES":
        state.reset()


setting_changed.connect(
    _reset_on_settings_change, weak=False, dispatch_uid="dbrole_switch.reset"
)
