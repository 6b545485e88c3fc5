"""What dbrole-switch adds to Django's PostgreSQL and PostGIS database wrappers.

Five small overrides, none of them on the path a read takes once connected:

- ``get_connection_params()``: while the alias is escalated, new connections log in
  as the privileged role, with the password held by the switch (never in
  ``settings.DATABASES``) and an ``application_name`` carrying the escalation's
  token.
- ``get_new_connection()``: after connecting, compare the session's reported
  ``application_name`` with the state now in force; a connection that raced a
  switch is closed and opened again (this also catches a pool created just
  before a switch).
- ``ensure_connection()``: one attribute test; a connection escalated under an
  escalation that has since ended is closed before the next statement (and the
  open transaction, if any, is lost with an error saying why).
- ``wrap_database_errors``: only when a statement fails, turn a refusal of the
  read-only role (SQLSTATE 25006 or 42501) into :class:`ReadOnlyError`, and close
  a connection the server dropped so that the next query reconnects.
- ``is_usable()`` (Django's health checks): a dropped escalated session ends the
  escalation, as a failed statement does, instead of being replaced quietly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property

from dbrole_switch import state

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as _Base
else:
    _Base = object

# 25006: read_only_sql_transaction (the belt); 42501: insufficient_privilege.
READ_ONLY_SQLSTATES = frozenset({"25006", "42501"})

# OPTIONS keys Django consumes itself; everything else is passed on to the driver.
_DJANGO_OPTIONS = frozenset(
    {
        "assume_role",
        "cursor_factory",
        "isolation_level",
        "pool",
        "prepare_threshold",
        "server_side_binding",
    }
)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg 3 or psycopg2 error."""
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)


def is_broken(raw: Any) -> bool:
    """True when the driver connection can no longer be used."""
    if raw is None:
        return False

    closed = getattr(raw, "closed", False)
    return bool(getattr(raw, "broken", False) or closed)


def release(raw: Any) -> None:
    """Close a driver connection, or give it back to the pool it came from."""
    # A pooled connection closed behind the pool's back still counts against
    # the pool's max_size: after a few dropped sessions no connection is left.
    pool = getattr(raw, "_pool", None)
    if pool is not None:
        pool.putconn(raw)
    else:
        raw.close()


def reported_application_name(raw: Any) -> str | None:
    info: Any = getattr(raw, "info", None)
    if hasattr(info, "parameter_status"):
        value = info.parameter_status("application_name")
        return value.decode() if isinstance(value, bytes) else value
    return raw.get_parameter_status("application_name")  # type: ignore[no-any-return]


class _SwitchErrorWrapper(DatabaseErrorWrapper):
    wrapper: SwitchMixin

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is None:
            return

        from dbrole_switch import switch

        wrapper = self.wrapper
        if (
            wrapper._dbrole_token is None
            and wrapper.connection is not None
            and isinstance(exc_value, wrapper.Database.Error)
            and sqlstate(exc_value) in READ_ONLY_SQLSTATES
        ):
            switch.raise_read_only_error(wrapper, exc_value, traceback)

        if (
            wrapper.connection is not None
            and isinstance(exc_value, wrapper.Database.Error)
            and is_broken(wrapper.connection)
        ):
            switch.connection_lost(wrapper, exc_value, traceback)

        super().__exit__(exc_type, exc_value, traceback)


class SwitchMixin(_Base):
    """Mixed into a PostgreSQL ``DatabaseWrapper`` by dbrole-switch's backends."""

    # The escalation token the open connection belongs to; None: read-only role.
    _dbrole_token: str | None = None
    # A connection verified by enable_writes(), handed over to this thread.
    _dbrole_handover: tuple[Any, str] | None = None

    @cached_property
    def wrap_database_errors(self) -> DatabaseErrorWrapper:
        return _SwitchErrorWrapper(self)

    def dbrole_privileged_params(
        self, escalation: state.Escalation, application_name: str | None = None
    ) -> dict[str, Any]:
        """Connection parameters for the privileged role of *escalation*."""
        params = super().get_connection_params()
        privileged = self.settings_dict["DBROLE_SWITCH"]
        for key in set(self.settings_dict["OPTIONS"]) - _DJANGO_OPTIONS:
            params.pop(key, None)
        for key, value in privileged["OPTIONS"].items():
            if key not in _DJANGO_OPTIONS:
                params[key] = value
        for param, key in (("user", "USER"), ("host", "HOST"), ("port", "PORT")):
            params.pop(param, None)
            if privileged[key]:
                params[param] = privileged[key]
        if privileged["NAME"]:
            params["dbname"] = privileged["NAME"]
        params["password"] = escalation.secret.value or ""
        params["application_name"] = application_name or escalation.application_name
        return params

    def dbrole_connect(self, params: dict[str, Any], *, pooled: bool) -> Any:
        """Open a connection with *params*, outside any pool and the state checks."""
        if pooled:
            return self.Database.connect(**params)
        return super().get_new_connection(params)

    def get_connection_params(self) -> dict[str, Any]:
        escalation = state.current(self.alias)
        if escalation is None or escalation.secret.value is None:
            return super().get_connection_params()

        return self.dbrole_privileged_params(escalation)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        handover, self._dbrole_handover = self._dbrole_handover, None
        if handover is not None:
            raw, handed_token = handover
            if handed_token == state.current_token(self.alias):
                self._dbrole_token = handed_token
                return raw
            raw.close()

        for _attempt in range(5):
            raw = super().get_new_connection(conn_params)
            token = state.token_of(reported_application_name(raw))
            if token == state.current_token(self.alias):
                self._dbrole_token = token
                return raw

            # A switch happened while we connected: this session has the wrong
            # role. Drop it (and a pool created with the old credentials).
            release(raw)
            if getattr(self, "pool", None):  # Django 5.1+
                self.close_pool()
            conn_params = self.get_connection_params()

        from dbrole_switch.switch import WritesDisabledError

        raise WritesDisabledError(
            f"alias {self.alias!r} kept switching between read-only and writable "
            "while connecting; try again"
        )

    def is_usable(self) -> bool:
        # Django's health checks (CONN_HEALTH_CHECKS) replace a dead connection
        # quietly; a dead escalated session must end the escalation instead, as
        # a failed query does.
        usable: bool = super().is_usable()
        token = self._dbrole_token
        if not usable and token is not None and is_broken(self.connection):
            from dbrole_switch.switch import end_lost_escalation

            end_lost_escalation(self.alias, token, "connection lost (health check)")
        return usable

    def ensure_connection(self) -> None:
        token = self._dbrole_token
        if token is not None and token != state.current_token(self.alias):
            self._dbrole_retire()
        super().ensure_connection()

    def _dbrole_retire(self) -> None:
        """Close a connection whose escalation has ended, before it runs anything."""
        token, self._dbrole_token = self._dbrole_token, None
        if self.connection is None:
            return

        in_transaction = self.in_atomic_block or not self.autocommit
        self.close()
        if in_transaction:
            from dbrole_switch.switch import WritesDisabledError

            raise WritesDisabledError(
                f"writes on alias {self.alias!r} were disabled (escalation {token} "
                "ended) while this thread had a transaction open on it; the "
                "transaction was rolled back"
            )
