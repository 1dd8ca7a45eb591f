"""Contracts and plumbing every service uses: event models, topic names, settings, Kafka, DB, metrics."""
