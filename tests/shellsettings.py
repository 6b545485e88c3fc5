"""The test project's settings, with what ``test_shell.py`` varies from outside.

``DBROLE_SWITCH_TEST_LAPSE`` sets the idle lapse to a second or two, to see an
escalation lapse without waiting fifteen minutes; ``DBROLE_SWITCH_TEST_SHELL_PLUS``
adds django-extensions, for its ``shell_plus``.
"""

from __future__ import annotations

import os

from testproject.settings import *  # noqa: F403

if "DBROLE_SWITCH_TEST_LAPSE" in os.environ:
    DBROLE_SWITCH_LAPSE = float(os.environ["DBROLE_SWITCH_TEST_LAPSE"])

if os.environ.get("DBROLE_SWITCH_TEST_SHELL_PLUS"):
    INSTALLED_APPS = [*INSTALLED_APPS, "django_extensions"]  # noqa: F405
