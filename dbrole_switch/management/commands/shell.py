"""``manage.py shell`` with the read-only mode in view.

Django's own command, with a banner line naming the mode, the aliases and their
roles; ``enable_writes``, ``disable_writes``, ``temp_writes`` and ``writes_enabled``
without an import; and in the interactive shells a prompt marker and the idle lapse
(IPython through :mod:`dbrole_switch.ipython`, which also adds ``%writes``).

A project with a ``shell`` command of its own can subclass this one.
"""

from __future__ import annotations

import importlib
import select
import sys
from typing import Any

from django.core.management import CommandError
from django.core.management.commands import shell as django_shell

from dbrole_switch import shell
from dbrole_switch.errors import DbroleSwitchError

# Django 5.2 added automatic imports (``get_auto_imports`` / ``get_namespace``).
_AUTO_IMPORTS = hasattr(django_shell.Command, "get_auto_imports")


class Command(django_shell.Command):
    help = (
        f"{django_shell.Command.help} Shows dbrole-switch's read-only mode in the "
        "banner and prompt; enable_writes() and friends need no import."
    )

    def get_auto_imports(self) -> list[str] | None:
        imports = super().get_auto_imports()
        if imports is None:
            return None
        return [*imports, *shell.AUTO_IMPORTS]

    def get_namespace(self, **options: Any) -> dict[str, Any]:
        # Our names stay available with --no-imports too: the banner tells the
        # user to call enable_writes(), so it must be there.
        names = shell.namespace()
        if _AUTO_IMPORTS:
            names.update(super().get_namespace(**options))
        return names

    def handle(self, **options: Any) -> None:
        try:
            if not _AUTO_IMPORTS and (options["command"] or _stdin_has_code()):
                # Django 4.2 runs -c and piped code with its module's globals
                # only. Running the user's code is the job here.
                source = options["command"] or sys.stdin.read()
                namespace = {**vars(django_shell), **self.get_namespace(**options)}
                exec(source, namespace)  # noqa: S102
                return

            super().handle(**options)
        except (DbroleSwitchError, *shell.CANCELLED) as exc:
            # Reached from -c and piped code only (the interactive shells show
            # their own errors): one line that says what to do, and exit 1.
            if not shell.shown_in_one_line(exc):
                raise
            raise CommandError(shell.one_line(exc)) from exc

    def ipython(self, options: dict[str, Any]) -> None:
        from IPython import start_ipython

        # The extension prints the banner and adds %writes, the marker and the
        # lapse; --ext adds it to whatever the user's profile loads.
        start_ipython(
            argv=["--ext", "dbrole_switch.ipython"],
            user_ns=self.get_namespace(**options),
        )

    def bpython(self, options: dict[str, Any]) -> None:
        # Imported by name: bpython is optional, and without type information.
        bpython = importlib.import_module("bpython")

        with shell.marked_prompt(), shell.bpython_lapse():
            bpython.embed(self.get_namespace(**options), banner=shell.banner())

    def python(self, options: dict[str, Any]) -> None:
        # Django builds the namespace itself (and reports its automatic imports
        # once); the console adds our names where they are missing.
        with shell.plain_console(shell.namespace()):
            super().python(options)


def _stdin_has_code() -> bool:
    return (
        sys.platform != "win32"
        and not sys.stdin.isatty()
        and bool(select.select([sys.stdin], [], [], 0)[0])
    )
