"""A minimal Django project (settings plus one app) that the tests run against.

Its settings read ``DATABASE_URL``, ``DATABASE_READ_ONLY_URL`` and
``DJANGO_READ_ONLY`` through ``dbrole_switch.configure_databases()``, like a real
project's would. Use it in a subprocess with ``PYTHONPATH=<tests dir>`` and
``DJANGO_SETTINGS_MODULE=testproject.settings``, or run ``manage.py`` next to
this file.
"""
