"""Where files (complaints' attachments) are kept: an S3-compatible object store, or a folder.

`OBJECT_STORE_URL` names the store (MinIO in deploy/compose.yaml, any S3 API); without it the
one-command run keeps each object as a file under `<DATA_DIR>/objects`. Files never travel in the
message bus: events carry an attachment's id and metadata only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from services.common.errors import Unavailable
from services.common.settings import Settings


class ObjectStore(Protocol):
    """Put, get and delete whole objects by key."""

    def put(self, key: str, data: bytes, media_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, keys: list[str]) -> None: ...

    def ping(self) -> None: ...


class S3Store:
    """A bucket of an S3-compatible store through boto3; the bucket is made when missing."""

    def __init__(self, url: str, bucket: str, access_key: str, secret_key: str, region: str):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self._client = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3},
                s3={"addressing_style": "path"},
            ),
        )
        self._ready = False

    def put(self, key: str, data: bytes, media_type: str) -> None:
        self._ensure_bucket()
        self._call(self._client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=media_type)

    def get(self, key: str) -> bytes:
        answer = self._call(self._client.get_object, Bucket=self.bucket, Key=key)
        return answer["Body"].read()

    def delete(self, keys: list[str]) -> None:
        """Delete these keys (a missing one is no error: erasing twice is harmless)."""
        for start in range(0, len(keys), 1000):  # the API's most per request
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self._call(
                self._client.delete_objects, Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )

    def ping(self) -> None:
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        if self._ready:
            return
        from botocore.exceptions import ClientError

        try:
            self._call(self._client.head_bucket, Bucket=self.bucket)
        except Unavailable as missing:
            if not isinstance(missing.__cause__, ClientError):
                raise
            self._call(self._client.create_bucket, Bucket=self.bucket)
        self._ready = True

    @staticmethod
    def _call(operation, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return operation(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise Unavailable(f"the object store does not answer: {exc}") from exc


class FolderStore:
    """Each object a file under `root` (the one-command run with no OBJECT_STORE_URL)."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # whole or not at all

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise Unavailable(f"object {key} is missing from {self.root}") from exc

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if ".." in key.split("/") or key.startswith("/"):  # keys are made by us; never leave the root
            raise ValueError(f"bad object key {key!r}")
        return self.root / key


def object_store_from_settings(settings: Settings) -> ObjectStore:
    if settings.object_store_url:
        return S3Store(
            settings.object_store_url,
            settings.object_store_bucket,
            settings.object_store_access_key or "",
            settings.object_store_secret_key or "",
            settings.object_store_region,
        )
    return FolderStore(Path(settings.data_dir) / "objects")
