"""IPython integration: ``%writes``, a prompt marker, and the idle lapse.

``manage.py shell`` loads it by itself. Anywhere else IPython runs with Django set up
(django-extensions' ``shell_plus``, a notebook), load it as an extension::

    %load_ext dbrole_switch.ipython

or for every session, in ``ipython_config.py``::

    c.InteractiveShellApp.extensions = ["dbrole_switch.ipython"]

and for ``shell_plus`` only, in ``settings.py``::

    IPYTHON_ARGUMENTS = ["--ext", "dbrole_switch.ipython"]
"""

from __future__ import annotations

import importlib
import inspect
import shlex
import sys
from types import TracebackType
from typing import Any

from dbrole_switch import shell

USAGE = (
    "usage: %writes on [ALIAS ...] [--no-lapse] | %writes off [ALIAS ...] | "
    "%writes status"
)

# One set of hooks per IPython shell, so that unloading removes exactly ours.
_installed: dict[int, _Hooks] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Add ``%writes``, the prompt marker, the lapse and the names; print the mode."""
    if id(ipython) in _installed:
        return

    from django.apps import apps

    if not apps.ready:
        print(
            f"{shell.PREFIX} Django is not set up in this IPython: load the "
            "extension from `manage.py shell`, shell_plus, or after django.setup().",
            file=sys.stderr,
        )
        return

    hooks = _Hooks(ipython)
    hooks.install()
    _installed[id(ipython)] = hooks
    print(shell.banner(), flush=True)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` added, except the names."""
    hooks = _installed.pop(id(ipython), None)
    if hooks is not None:
        hooks.uninstall()


def writes(line: str) -> None:
    """``%writes on|off|status``: escalate, de-escalate, or show the mode.

    ``%writes on`` asks for the privileged password like ``enable_writes()``;
    aliases may follow (default: every alias in read-only mode), and
    ``--no-lapse`` keeps writes on however long the shell sits idle.
    """
    import dbrole_switch
    from dbrole_switch.errors import DbroleSwitchError

    try:
        words = shlex.split(line)
    except ValueError as exc:
        print(f"{shell.PREFIX} {exc}; {USAGE}", file=sys.stderr)
        return

    action, args = (words[0], words[1:]) if words else ("status", [])
    options = {arg for arg in args if arg.startswith("-")}
    aliases = [arg for arg in args if not arg.startswith("-")] or None
    allowed = {"--no-lapse"} if action == "on" else set()
    if action not in ("on", "off", "status") or options - allowed:
        print(f"{shell.PREFIX} {USAGE}", file=sys.stderr)
        return

    try:
        if action == "on":
            if "--no-lapse" in options:
                dbrole_switch.enable_writes(aliases, lapse=None)
            else:
                dbrole_switch.enable_writes(aliases)
        elif action == "off":
            dbrole_switch.disable_writes(aliases)
    except DbroleSwitchError as exc:
        print(shell.one_line(exc), file=sys.stderr)
    except shell.CANCELLED:
        print(f"\n{shell.PREFIX} cancelled; nothing changed.", file=sys.stderr)

    for status in shell.status_lines():
        print(status)


class _Hooks:
    """Everything the extension adds to one IPython shell, and how to remove it."""

    def __init__(self, ipython: Any) -> None:
        self.ipython = ipython
        self.lapse = shell.IdleLapse()
        self.own_exceptions = False

    def install(self) -> None:
        from dbrole_switch.errors import DbroleSwitchError

        ip = self.ipython
        ip.register_magic_function(writes, magic_kind="line", magic_name="writes")
        ip.push(
            {
                name: value
                for name, value in shell.namespace().items()
                if name not in ip.user_ns
            },
            interactive=False,
        )
        ip.events.register("pre_run_cell", self.pre_run_cell)
        ip.events.register("post_run_cell", self.post_run_cell)
        if getattr(ip, "prompts", None) is not None:
            ip.prompts = _marked_prompts(ip, ip.prompts)

        # IPython has a single slot for custom exception handlers: leave one that
        # someone else set alone, at the cost of the full tracebacks.
        if not ip.custom_exceptions:
            ip.set_custom_exc((DbroleSwitchError, *shell.CANCELLED), _show)
            self.own_exceptions = True

    def uninstall(self) -> None:
        ip = self.ipython
        ip.events.unregister("pre_run_cell", self.pre_run_cell)
        ip.events.unregister("post_run_cell", self.post_run_cell)
        if isinstance(getattr(ip, "prompts", None), _MarkerMixin):
            ip.prompts = ip.prompts.inner
        if self.own_exceptions:
            ip.set_custom_exc((), None)
        ip.magics_manager.magics["line"].pop("writes", None)

    def pre_run_cell(self, info: Any = None) -> None:
        message = self.lapse.command_starting()
        if message:
            print(message, flush=True)

    def post_run_cell(self, result: Any = None) -> None:
        self.lapse.command_finished()


def _show(
    ipython: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    if not shell.shown_in_one_line(value):
        ipython.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []

    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    print(f"{shell.one_line(value)}  (%tb shows the traceback)", file=sys.stderr)
    return []


class _MarkerMixin:
    inner: Any


def _marked_prompts(ipython: Any, inner: Any) -> Any:
    """Wrap the shell's current prompts (the user's own, if any) with the marker."""
    from IPython.terminal.prompts import Prompts

    # pygments comes with IPython, but without type information.
    token_module: Any = importlib.import_module("pygments.token")
    Token = token_module.Token

    class MarkedPrompts(_MarkerMixin, Prompts):
        def __init__(self, shell_: Any, inner: Any) -> None:
            super().__init__(shell_)
            self.inner = inner

        def in_prompt_tokens(self) -> list[tuple[Any, str]]:
            text = shell.marker()
            # IPython colours "In" green and "Out" red in its own themes: the same
            # colours say read-only and writes-enabled without a style of ours.
            token = Token.OutPrompt if text.startswith("[WRITES") else Token.Prompt
            tokens = list(self.inner.in_prompt_tokens())
            return [(token, text), *tokens] if text else tokens

        def continuation_prompt_tokens(
            self, width: int | None = None, **kwargs: Any
        ) -> list[tuple[Any, str]]:
            # Prompt classes written for older IPython versions take fewer
            # keyword arguments: pass on only those the wrapped one accepts.
            method = self.inner.continuation_prompt_tokens
            parameters = inspect.signature(method).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                kwargs = {k: v for k, v in kwargs.items() if k in parameters}
            return list(method(width, **kwargs))

        def rewrite_prompt_tokens(self) -> list[tuple[Any, str]]:
            return list(self.inner.rewrite_prompt_tokens())

        def out_prompt_tokens(self) -> list[tuple[Any, str]]:
            return list(self.inner.out_prompt_tokens())

    return MarkedPrompts(ipython, inner)
