"""docs/architecture.md draws the services and topics from the code, and cannot drift from it:
the block between its markers must be exactly what ``python -m shared.architecture`` draws now
(``make docs`` rewrites it)."""

from pathlib import Path

import pytest

from shared import architecture
from shared.architecture import ArchitectureError, Subscription, block, committed_block, subscriptions
from shared.topics import TOPICS


def test_the_committed_diagram_is_what_the_code_draws_now():
    assert committed_block() == block(), "run `make docs` and commit docs/architecture.md"


def test_every_topic_appears_in_the_committed_diagram():
    committed = committed_block()
    for topic in TOPICS:
        assert f'"{topic.name}"' in committed, f"{topic.name} is missing from docs/architecture.md"


def test_every_service_appears_with_what_it_produces_and_consumes():
    committed = committed_block()
    for service in ("assessment", "registry", "sampling", "penalty"):
        assert f'{service}(["{service}"])' in committed
    for topic in TOPICS:
        assert topic.producers, f"{topic.name} names no producer in shared/topics.py"


def test_the_subscriptions_are_read_from_the_bootstraps_without_importing_them():
    found = set(subscriptions())
    # the worked path of a report, and the credit feed in a consumer group of its own
    assert Subscription("assessment", "ohs.reports.submitted") in found
    assert Subscription("registry", "ohs.assessments.classified") in found
    assert Subscription("sampling", "ohs.registry.classification-changed") in found
    assert Subscription("registry", "ohs.registry.classification-changed", "credit-feed") in found
    assert Subscription("penalty", "ohs.inspections.violation-recorded") in found


def test_a_subscription_the_generator_cannot_read_is_an_error_naming_the_file(tmp_path: Path):
    service = tmp_path / "odd"
    service.mkdir()
    (service / "bootstrap.py").write_text(
        "def bootstrap(runtime, name):\n    runtime.consumer.subscribe(name + '.x', None, None)\n", encoding="utf-8"
    )
    with pytest.raises(ArchitectureError, match=r"bootstrap.py:2: cannot tell the topic"):
        architecture.subscriptions(tmp_path)


def test_write_rewrites_only_the_block_between_the_markers(tmp_path: Path):
    doc = tmp_path / "architecture.md"
    doc.write_text(f"# before\n\n{architecture.BEGIN}\nstale\n{architecture.END}\n\nafter\n", encoding="utf-8")
    assert architecture.write(doc) is True
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# before\n\n") and text.endswith("\n\nafter\n")
    assert committed_block(doc) == block()
    assert architecture.write(doc) is False
