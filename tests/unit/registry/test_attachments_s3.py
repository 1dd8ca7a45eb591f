"""The S3 attachment store against a real S3-compatible HTTP endpoint the test starts (moto's threaded
server on a free local port): put, get, delete, a missing bucket named clearly, and a correction
submitted over the registry's HTTP API landing in the bucket."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from services.registry.adapters.attachments import (
    AttachmentMissing,
    AttachmentStoreError,
    LocalAttachmentStore,
    S3AttachmentStore,
    key_for,
    store_from_url,
)
from shared.ports import free_port
from tests.support import auth, new_credit_code

BUCKET = "ohs-attachments"
ITEM = "4a1e20c0-f699-5d3c-9e76-7853f79b34e7"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of the endpoint, with the standard AWS_* credentials the store reads too, and the bucket."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for found in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=found["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_put_get_delete_round_trip_under_the_prefix(endpoint: str, s3: Any, tmp_path: Path) -> None:
    store = store_from_url(f"s3://{BUCKET}/registry/prod?endpoint={endpoint}", tmp_path)
    assert isinstance(store, S3AttachmentStore) and store.describe() == f"s3://{BUCKET}/registry/prod at {endpoint}"
    content = b"%PDF-1.4\n% a correction\n%%EOF\n"
    key = key_for(ITEM, hashlib.sha256(content).hexdigest())

    assert store.put(key, io.BytesIO(content), "application/pdf") is True
    assert store.put(key, io.BytesIO(content), "application/pdf") is False, "content-addressed: already there"
    assert store.get(key) == content
    stored = s3.head_object(Bucket=BUCKET, Key=f"registry/prod/{key}")
    assert (stored["ContentLength"], stored["ContentType"]) == (len(content), "application/pdf")

    store.delete(key)
    with pytest.raises(AttachmentMissing):
        store.get(key)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    with pytest.raises(ValueError, match="not an attachment key"):
        store.put("../elsewhere", io.BytesIO(content), "application/pdf")


def test_a_missing_bucket_is_named_clearly(endpoint: str, s3: Any, tmp_path: Path) -> None:
    store = store_from_url(f"s3://no-such-bucket?endpoint={endpoint}", tmp_path)
    with pytest.raises(AttachmentStoreError, match="the attachment bucket 'no-such-bucket' does not exist at s3://no-such-bucket/ at http"):
        store.put(key_for(ITEM, "0" * 64), io.BytesIO(b"%PDF-"), "application/pdf")
    with pytest.raises(AttachmentStoreError, match="does not exist"):
        store.get(key_for(ITEM, "0" * 64))
    with pytest.raises(AttachmentStoreError, match="create it, or correct OHS_ATTACHMENTS_URL"):
        store.check()  # type: ignore[attr-defined]


def test_the_url_is_checked() -> None:
    assert isinstance(store_from_url(None, Path("/data")), LocalAttachmentStore)
    for url, why in [("ftp://host/x", "expected s3://bucket/prefix"), ("s3://bucket?endpoint=file:///x", "http:// or https://"),
                     ("s3://bucket?endpont=http://x", "unknown parameter")]:
        with pytest.raises(ValueError, match=why):
            store_from_url(url, Path("/data"))


def test_a_correction_over_http_lands_in_the_bucket(endpoint: str, s3: Any, tmp_path: Path) -> None:
    from services.registry.bootstrap import bootstrap
    from shared.migrations import upgrade
    from shared.settings import settings_for
    from tests.support import TEST_AUTH_SECRET
    from tests.unit.registry.test_rectification_http import a_pdf, item_for

    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET,
                                 attachments_url=f"s3://{BUCKET}/registry?endpoint={endpoint}"), create_topics=False)
    upgrade("registry", app.state.runtime.engine)

    async def no_broker() -> int:
        return 0

    app.state.runtime.relay.flush = no_broker
    client = TestClient(app)
    code = new_credit_code()
    item_id = item_for(client, code)
    pdf = a_pdf("整改说明")
    sent = client.post(f"/rectifications/{item_id}/submission", headers=auth("employer", code), data={"text": "已整改"},
                       files=[("files", ("整改说明.pdf", pdf, "application/pdf"))])
    assert sent.status_code == 201, sent.text
    digest = hashlib.sha256(pdf).hexdigest()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [f"registry/{item_id}/{digest}"]
    assert not (tmp_path / "attachments").exists(), "nothing on the local disk"
    got = client.get(f"/rectifications/{item_id}/attachments/1", headers=auth("county", "141029"))
    assert got.status_code == 200 and got.content == pdf
    app.state.runtime.engine.dispose()
