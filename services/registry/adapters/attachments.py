"""Where the attachments of rectification submissions are kept: an interface (put / get / delete by
key) and two stores behind it.

* :class:`LocalAttachmentStore` — files under ``<OHS_DATA_DIR>/attachments/`` (the default).
* :class:`S3AttachmentStore` — an S3-compatible object store (MinIO, Ceph, a cloud's), chosen by
  ``OHS_ATTACHMENTS_URL=s3://bucket/prefix?endpoint=http://host:port`` (``&region=…`` optional);
  credentials from the standard ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` environment
  (boto3's chain). The bucket must exist: the registry does not create it.

Keys are ``<item id>/<sha256>`` (:func:`key_for`): content-addressed per item, so the same file
attached twice to one item is stored once, and a key found already stored holds the same bytes.
This module also reads an upload once, with a cap (:func:`inspect_upload`): its size, SHA-256 and
first bytes, without holding the file in memory.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from services.registry.domain.rectification import HEAD_BYTES

CHUNK = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3}")


class AttachmentStoreError(RuntimeError):
    """The store cannot be used as configured (a missing bucket, an unreachable endpoint, a bad URL)."""


class AttachmentMissing(LookupError):
    """No object under that key."""


def key_for(item_id: str, sha256: str) -> str:
    return f"{item_id}/{sha256}"


def check_key(key: str) -> str:
    """Keys are ours (item id and digest), never a client's file name: refuse anything else."""
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"not an attachment key: {key!r}")
    return key


def inspect_upload(stream: BinaryIO, max_bytes: int) -> tuple[int, str, bytes, bool]:
    """Read ``stream`` in chunks, at most ``max_bytes`` + 1 bytes: (size read, SHA-256 hex, first bytes,
    too big). Rewinds the stream for storing."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    while size <= max_bytes:
        chunk = stream.read(min(CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return size, digest.hexdigest(), head, size > max_bytes


class AttachmentStore(abc.ABC):
    """Put, get and delete attachments by key."""

    @abc.abstractmethod
    def put(self, key: str, stream: BinaryIO, content_type: str) -> bool:
        """Store the stream's bytes under ``key``; False when the key was already stored (the same
        content: keys are content-addressed), True when this call stored it."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`AttachmentMissing` when there are none."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (nothing when it is not there)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where it stores, in words for logs and errors."""


class LocalAttachmentStore(AttachmentStore):
    """Files under ``root`` (``<OHS_DATA_DIR>/attachments`` by default), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, stream: BinaryIO, content_type: str) -> bool:
        path = self._path(key)
        if path.is_file():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".incoming-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise AttachmentMissing(key) from error

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # the item's folder, once empty
        except OSError:
            pass

    def describe(self) -> str:
        return f"local folder {self.root}"


class S3AttachmentStore(AttachmentStore):
    """Objects in ``bucket`` under ``prefix`` of an S3-compatible store at ``endpoint`` (None: AWS)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None, region: str | None = None, client: Any = None) -> None:
        if not bucket:
            raise AttachmentStoreError("the S3 attachment store needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                            s3={"addressing_style": "path"} if endpoint else {})
            client = boto3.client("s3", endpoint_url=endpoint, region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                                  config=config)
        self.client = client

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _failure(self, error: Exception, key: str, action: str) -> Exception:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket":
                return AttachmentStoreError(f"the attachment bucket {self.bucket!r} does not exist at {self.describe()}: "
                                            "create it, or correct OHS_ATTACHMENTS_URL")
            if code in ("NoSuchKey", "404", "NotFound"):
                return AttachmentMissing(key)
            return AttachmentStoreError(f"could not {action} {key} in {self.describe()}: {code} {error}")
        if isinstance(error, BotoCoreError):
            return AttachmentStoreError(f"could not {action} {key} in {self.describe()}: {error}")
        return error

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
                self.check()  # a missing bucket also answers 404 to HEAD: say which
                return False
            raise self._failure(error, key, "look up") from error
        except Exception as error:  # noqa: BLE001 - botocore's connection errors
            raise self._failure(error, key, "look up") from error

    def check(self) -> None:
        """:class:`AttachmentStoreError` unless the bucket exists and answers."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise AttachmentStoreError(f"the attachment bucket {self.bucket!r} does not exist at {self.describe()}: "
                                           "create it, or correct OHS_ATTACHMENTS_URL") from error
            raise AttachmentStoreError(f"the attachment bucket {self.bucket!r} at {self.describe()} answers {code}: {error}") from error
        except BotoCoreError as error:
            raise AttachmentStoreError(f"the attachment store {self.describe()} cannot be reached: {error}") from error

    def put(self, key: str, stream: BinaryIO, content_type: str) -> bool:
        if self._exists(key):
            return False
        try:
            self.client.upload_fileobj(stream, self.bucket, self._name(key), ExtraArgs={"ContentType": content_type})
        except Exception as error:  # noqa: BLE001 - boto3's transfer wraps a ClientError in S3UploadFailedError
            raise AttachmentStoreError(f"could not store {key} in {self.describe()}: {error}") from error
        return True

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except Exception as error:  # noqa: BLE001
            raise self._failure(error, key, "read") from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as error:  # noqa: BLE001
            raise self._failure(error, key, "delete") from error

    def describe(self) -> str:
        where = self.endpoint or "AWS S3"
        return f"s3://{self.bucket}/{self.prefix} at {where}"


def store_from_url(url: str | None, data_dir: Path) -> AttachmentStore:
    """The store ``OHS_ATTACHMENTS_URL`` names: unset → ``<data_dir>/attachments``; ``s3://bucket/prefix
    ?endpoint=http://host:port[&region=…]`` → an S3-compatible store. Anything else: ValueError naming it."""
    if not url:
        return LocalAttachmentStore(Path(data_dir) / "attachments")
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"OHS_ATTACHMENTS_URL {url!r}: expected s3://bucket/prefix?endpoint=http://host:port (or unset for the local disk)")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"endpoint", "region"})
    if unknown:
        raise ValueError(f"OHS_ATTACHMENTS_URL {url!r}: unknown parameter(s) {', '.join(unknown)} (endpoint, region)")
    endpoint = query.get("endpoint", [None])[0]
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ValueError(f"OHS_ATTACHMENTS_URL {url!r}: endpoint must be an http:// or https:// URL")
    return S3AttachmentStore(parts.netloc, parts.path, endpoint, query.get("region", [None])[0])
