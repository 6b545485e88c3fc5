"""Process-wide switch state, shared by the runtime API and the database backend.

One :class:`Escalation` per escalated alias, swapped as a whole under
:data:`lock`: a reader on the connection path takes one reference and never sees a
half-written state. The password lives only in the escalation's :class:`Secret`,
which never shows in a ``repr`` and is emptied on de-escalation.
"""

from __future__ import annotations

import datetime
import getpass
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

ESCALATED_APPLICATION_PREFIX = "dbrole-switch escalated "

lock = threading.RLock()

_escalations: dict[str, Escalation] = {}
_listeners: list[Callable[[Any], None]] = []
# Unique to this process, so that ending our escalated sessions on the server can
# never touch another process's sessions, even one with the same pid elsewhere.
_process_nonce = secrets.token_hex(3)
_counter = itertools.count(1)


class Secret:
    """A password that does not show itself in ``repr``, ``str`` or pickles."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value: str | None = value

    def __repr__(self) -> str:
        return "Secret('********')" if self._value is not None else "Secret(forgotten)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a dbrole-switch Secret cannot be pickled")

    @property
    def value(self) -> str | None:
        """The password, or None once forgotten."""
        return self._value

    def forget(self) -> None:
        self._value = None


@dataclass(frozen=True)
class Escalation:
    """One alias's escalation: who, since when, for how long. No password in repr."""

    alias: str
    role: str
    token: str
    os_user: str
    since: float
    started_at: datetime.datetime
    lapse: float | None
    secret: Secret = field(repr=False, compare=False)

    @property
    def application_name(self) -> str:
        """What ``pg_stat_activity`` shows for this escalation's sessions."""
        # The token comes first: the server cuts the name at 63 bytes, and ending
        # these sessions matches on the token.
        return f"{ESCALATED_APPLICATION_PREFIX}{self.token} {self.os_user}"


def os_user() -> str:
    """The login name of whoever runs this process, for the audit log."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def new_escalation(
    alias: str, role: str, password: str, lapse: float | None
) -> Escalation:
    return Escalation(
        alias=alias,
        role=role,
        token=f"{_process_nonce}.{os.getpid()}.{next(_counter)}",
        os_user=os_user(),
        since=time.monotonic(),
        started_at=datetime.datetime.now(datetime.timezone.utc),
        lapse=lapse,
        secret=Secret(password),
    )


def token_of(application_name: str | None) -> str | None:
    """The escalation token carried by a session's ``application_name``, if any."""
    if not application_name or not application_name.startswith(
        ESCALATED_APPLICATION_PREFIX
    ):
        return None

    rest = application_name[len(ESCALATED_APPLICATION_PREFIX) :]
    return rest.split(" ", 1)[0] or None


def current(alias: str) -> Escalation | None:
    """The alias's escalation in force, or None when it is read-only."""
    return _escalations.get(alias)


def current_token(alias: str) -> str | None:
    escalation = _escalations.get(alias)
    return None if escalation is None else escalation.token


def install(escalation: Escalation) -> None:
    with lock:
        _escalations[escalation.alias] = escalation


def remove(alias: str) -> Escalation | None:
    with lock:
        return _escalations.pop(alias, None)


def reset() -> None:
    """Forget every escalation (tests, and a change of ``DATABASES``)."""
    with lock:
        for escalation in _escalations.values():
            escalation.secret.forget()
        _escalations.clear()


def listeners() -> list[Callable[[Any], None]]:
    return list(_listeners)


def add_listener(listener: Callable[[Any], None]) -> None:
    with lock:
        if listener not in _listeners:
            _listeners.append(listener)


def remove_listener(listener: Callable[[Any], None]) -> None:
    with lock:
        if listener in _listeners:
            _listeners.remove(listener)
