"""Django's PostGIS backend, following the switch."""
