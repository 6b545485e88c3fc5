"""Database backends that follow the switch: Django's, plus four small overrides.

``configure_databases()`` puts them in ``ENGINE`` in read-only mode only.
"""
