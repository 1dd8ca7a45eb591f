from pathlib import Path

from shared.asyncapi import document, render
from shared.topics import TOPICS

DOC = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


def test_the_committed_asyncapi_document_matches_the_contracts():
    assert DOC.read_text(encoding="utf-8") == render(), "run `make asyncapi` and commit docs/asyncapi.yaml"


def test_every_topic_and_its_dead_letter_topic_is_documented():
    addresses = {channel["address"] for channel in document()["channels"].values()}
    for topic in TOPICS:
        assert topic.name in addresses and topic.dlq in addresses
