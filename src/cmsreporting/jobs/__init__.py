"""Background jobs: cycle exports, e-mail delivery, reminders and sweeps, on procrastinate's
queue in PostgreSQL or in the server's own process on SQLite."""
