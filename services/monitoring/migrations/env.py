"""alembic environment of the monitoring service: see shared/migrations.py."""

from shared.migrations_env import run

run()
