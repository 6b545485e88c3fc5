"""The mode, always in view in ``manage.py shell``, and the idle lapse of escalations.

Shared by every shell front end: the plain Python console, IPython (see
:mod:`dbrole_switch.ipython`) and bpython. Nothing here touches the database: the
banner and the prompt marker are built from the settings the switch remembers, so a
slow link to the server never slows the prompt down.

An escalation made in an interactive shell *lapses* like a ``sudo`` timestamp: when
the shell sat idle for longer than the escalation's lapse (setting
``DBROLE_SWITCH_LAPSE``, 15 minutes by default), the next command typed goes back to
read-only first and says so. A running command is never interrupted.
"""

from __future__ import annotations

import code
import contextlib
import importlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbrole_switch.switch import AliasState

#: Names every shell offers without an import.
NAMES = ("enable_writes", "disable_writes", "temp_writes", "writes_enabled")

#: The same names as dotted paths, for Django 5.2's automatic shell imports.
AUTO_IMPORTS = tuple(f"dbrole_switch.{name}" for name in NAMES)

PREFIX = "dbrole-switch:"

logger = logging.getLogger("dbrole_switch")


def namespace() -> dict[str, Any]:
    """Return the names a shell offers without an import.

    >>> sorted(namespace())
    ['disable_writes', 'enable_writes', 'temp_writes', 'writes_enabled']
    """
    import dbrole_switch

    return {name: getattr(dbrole_switch, name) for name in NAMES}


def _states() -> list[AliasState]:
    from dbrole_switch import switch

    return switch.aliases()


def _where(state: AliasState) -> str:
    return f"{state.dbname} on {state.host}"


def banner() -> str:
    """Return the one line a shell prints at start: the mode, aliases and roles.

    For example ``dbrole-switch: READ-ONLY: default as app_ro (shop on db1).
    enable_writes() asks for the password of app_owner.``
    """
    states = _states()
    if not states:
        return (
            f"{PREFIX} read-only mode is off: this shell connects as the settings "
            "say, and can write."
        )

    aliases = ", ".join(
        f"{state.alias} as {state.read_only_role} ({_where(state)})" for state in states
    )
    owners = sorted({state.privileged_role for state in states})
    return (
        f"{PREFIX} READ-ONLY: {aliases}. "
        f"enable_writes() asks for the password of {', '.join(owners)}."
    )


def marker() -> str:
    """Return the prompt prefix for the current mode, or ``""`` when it is off.

    ``[read-only] `` while nothing is escalated, ``[WRITES default] `` naming the
    escalated aliases otherwise. Computed afresh for every prompt, so it follows
    each switch, whoever made it.
    """
    try:
        states = _states()
    except Exception:
        # A prompt must never fail to draw; the mode is unknown until the
        # settings make sense again.
        logger.debug("cannot tell the mode for the prompt", exc_info=True)
        return "[mode unknown] "
    if not states:
        return ""

    escalated = [state.alias for state in states if state.escalated]
    if not escalated:
        return "[read-only] "
    return f"[WRITES {','.join(escalated)}] "


def duration(seconds: float) -> str:
    """Return *seconds* the way a person says it.

    >>> duration(900), duration(1.5), duration(5400)
    ('15 min', '1.5 s', '1 h 30 min')
    """
    if seconds < 60:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def status_lines() -> list[str]:
    """Return one line per read-only alias: its mode, role, and lapse."""
    from dbrole_switch import switch

    states = _states()
    if not states:
        return [banner()]

    lines = []
    for state in states:
        escalation = switch.escalation(state.alias)
        if escalation is None:
            lines.append(
                f"{state.alias}: read-only as {state.read_only_role} ({_where(state)})"
            )
            continue

        since = escalation.started_at.astimezone().strftime("%H:%M:%S %Z")
        lapse = (
            "never lapses"
            if escalation.lapse is None
            else f"lapses after {duration(escalation.lapse)} idle"
        )
        lines.append(
            f"{state.alias}: WRITES ENABLED as {escalation.role} ({_where(state)}) "
            f"since {since}; {lapse}"
        )
    return lines


#: What Ctrl-C (KeyboardInterrupt) or Ctrl-D (EOFError) at the password prompt
#: raise.
CANCELLED = (KeyboardInterrupt, EOFError)


def one_line(exc: BaseException) -> str:
    """Return how a shell shows one of our errors: its class name and message."""
    if isinstance(exc, CANCELLED):
        return f"{type(exc).__name__}: password prompt cancelled; writes stay disabled"
    return f"{type(exc).__name__}: {exc}"


def shown_in_one_line(exc: BaseException | None) -> bool:
    """Whether a shell shows *exc* as :func:`one_line` rather than a traceback.

    True for our own errors, which say what happened and what to do in one line
    (the ORM's stack above them would only bury it), and for Ctrl-C or Ctrl-D at
    the password prompt, where the stack of ``getpass`` tells nobody anything.
    """
    from dbrole_switch.errors import DbroleSwitchError

    if isinstance(exc, DbroleSwitchError):
        return True
    if not isinstance(exc, CANCELLED):
        return False

    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "dbrole_switch.prompt":
            return True
        tb = tb.tb_next
    return False


class IdleLapse:
    """Measure how long a shell sat idle and lapse the escalations that outlived it.

    A front end calls :meth:`command_starting` when a command has been typed, before
    running it, and :meth:`command_finished` after it ran::

        lapse = IdleLapse()
        message = lapse.command_starting()
        if message:
            print(message)
        ...  # run the command
        lapse.command_finished()
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._idle_since = clock()

    def command_finished(self) -> None:
        self._idle_since = self._clock()

    def command_starting(self) -> str | None:
        """De-escalate what lapsed; return the message to print, or None."""
        try:
            return self._lapse(self._clock())
        except Exception as exc:
            # The shell must stay usable whatever the settings became.
            return f"{PREFIX} cannot check the idle lapse: {one_line(exc)}"

    def _lapse(self, now: float) -> str | None:
        from dbrole_switch import switch

        lapsed: list[tuple[str, float]] = []
        for state in _states():
            escalation = switch.escalation(state.alias)
            if escalation is None or escalation.lapse is None:
                continue

            # Idle time counts from the last command, or from the escalation when
            # it came later (made by another thread while the shell waited).
            idle = now - max(self._idle_since, escalation.since)
            if idle >= escalation.lapse:
                lapsed.append((state.alias, escalation.lapse))
        if not lapsed:
            return None

        aliases = [alias for alias, _ in lapsed]
        after = duration(min(seconds for _, seconds in lapsed))
        try:
            switch.disable_writes(aliases, reason=f"lapsed after {after} idle")
        except Exception as exc:
            return f"{PREFIX} writes should have lapsed but could not: {one_line(exc)}"

        return (
            f"{PREFIX} writes lapsed after {after} idle: {', '.join(aliases)} "
            "read-only again, and this command runs read-only. "
            "Call enable_writes() to write."
        )


class MarkedPrompt:
    """A ``sys.ps1`` that prefixes the original prompt with :func:`marker`.

    The console prints ``str(sys.ps1)`` for every prompt, so the marker is current
    each time one is shown.
    """

    def __init__(self, original: object) -> None:
        self.original = original

    def __str__(self) -> str:
        return marker() + str(self.original)


class Console(code.InteractiveConsole):
    """The plain Python console with the mode in its prompt and the idle lapse.

    The lapse is checked once the command has been typed (``input()`` returned), so
    the time the prompt sat waiting counts as idle, and before the command runs.
    """

    def __init__(
        self,
        *args: Any,
        readfunc: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lapse = IdleLapse()
        self.readfunc = readfunc

    def raw_input(self, prompt: object = "") -> str:
        if self.readfunc is not None:
            line = self.readfunc(prompt)  # type: ignore[arg-type]
        else:
            line = super().raw_input(prompt)  # type: ignore[arg-type]
        message = self.lapse.command_starting()
        if message:
            print(message, flush=True)
        return line

    def push(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().push(*args, **kwargs)
        finally:
            self.lapse.command_finished()

    def showtraceback(self) -> None:
        if not show_in_one_line(self.write):
            super().showtraceback()


def show_in_one_line(write: Callable[[str], object]) -> bool:
    """Write the exception being handled in one line, if it is one of ours.

    For the ``showtraceback()`` of a ``code.InteractiveInterpreter``: returns
    False, having written nothing, when the full traceback should be shown.
    """
    exc = sys.exc_info()[1]
    if exc is None or not shown_in_one_line(exc):
        return False

    # The traceback stays available to traceback.print_last().
    sys.last_type, sys.last_value = type(exc), exc
    sys.last_traceback = exc.__traceback__
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    write(one_line(exc) + "\n")
    return True


@contextlib.contextmanager
def marked_prompt() -> Iterator[None]:
    """Prefix ``sys.ps1`` with the mode marker while the block runs."""
    original = getattr(sys, "ps1", ">>> ")
    sys.ps1 = MarkedPrompt(original)
    try:
        yield
    finally:
        sys.ps1 = original


@contextlib.contextmanager
def plain_console(names: dict[str, Any]) -> Iterator[None]:
    """Make ``code.interact`` open :class:`Console` while the block runs.

    Django's ``shell`` command ends by calling ``code.interact()`` after it has run
    ``PYTHONSTARTUP`` and set up readline; replacing that one call keeps all of
    Django's set-up (on every supported version) and adds the banner, the names
    in *names* (without hiding the user's own), the marker and the lapse.
    """
    original = code.interact
    line = banner()

    def interact(
        banner: str | None = None,
        readfunc: Callable[[str], str] | None = None,
        local: dict[str, Any] | None = None,
        exitmsg: str | None = None,
        **kwargs: Any,
    ) -> None:
        local = {} if local is None else local
        for name, value in names.items():
            local.setdefault(name, value)
        console = Console(local, readfunc=readfunc, **kwargs)
        print(line, flush=True)
        with marked_prompt():
            console.interact(banner, exitmsg)

    code.interact = interact
    try:
        yield
    finally:
        code.interact = original


@contextlib.contextmanager
def bpython_lapse() -> Iterator[None]:
    """Check the idle lapse before each command bpython runs, while the block runs.

    bpython has no hook for this: its curtsies front end builds one ``Interp``
    per session from its ``repl`` module, which is swapped for a subclass whose
    ``runsource`` checks first (and whose ``showtraceback`` shows our errors in
    one line, as the other shells do). A bpython without that class keeps the
    marker and the banner, without the lapse.
    """
    try:
        module: Any = importlib.import_module("bpython.curtsiesfrontend.repl")
    except ImportError:
        yield
        return

    original = getattr(module, "Interp", None)
    if original is None:
        yield
        return

    lapse = IdleLapse()

    class LapsingInterp(original):  # type: ignore[misc,valid-type]
        def runsource(self, *args: Any, **kwargs: Any) -> Any:
            message = lapse.command_starting()
            if message:
                print(message, flush=True)
            try:
                return super().runsource(*args, **kwargs)
            finally:
                lapse.command_finished()

        def showtraceback(self) -> None:
            if not show_in_one_line(self.write):
                super().showtraceback()

    module.Interp = LapsingInterp
    try:
        yield
    finally:
        module.Interp = original
