"""alembic environment of the notification service: see shared/migrations.py."""

from shared.migrations_env import run

run()
