# Occupational-health classified supervision — operator and developer entry points.
# Prerequisites: Python 3.11+, Java 17+, Maven (for the Kafka broker jars).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-unit test-integration test-e2e bench kafka-start kafka-stop topics asyncapi docs clean help

help:
	@echo "make run    the whole system: Kafka, the five services, SQLite under .run/ (Ctrl-C stops all)"
	@echo "make test   every test: unit, integration (real Kafka + PostgreSQL), e2e"
	@echo "make bench  every performance figure beside its target: in-process, then a fresh Kafka + PostgreSQL + the four services (~15 min); writes bench/results/<date>.json (BENCH_ARGS=--quick: a smoke run)"
	@echo "other: test-unit test-integration test-e2e kafka-start kafka-stop topics asyncapi docs clean"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) deploy/run.py

test: $(STAMP)
	deploy/kafka/kafka.sh fetch
	$(PY) -m pytest -q --durations=25

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

test-integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

test-e2e: $(STAMP)
	$(PY) -m pytest -q tests/e2e

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

kafka-start:
	deploy/kafka/kafka.sh start

kafka-stop:
	deploy/kafka/kafka.sh stop

topics: $(STAMP)
	$(PY) -m shared.kafka_admin create-topics

asyncapi: $(STAMP)
	$(PY) -m shared.asyncapi > docs/asyncapi.yaml

docs: $(STAMP)
	$(PY) -m shared.architecture --write docs/architecture.md

clean:
	rm -rf .run
