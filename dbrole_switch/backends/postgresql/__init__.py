"""Django's PostgreSQL backend (psycopg 3 or psycopg2), following the switch."""
