"""S3 for tests: moto's server mode on 127.0.0.1, spoken to by the real boto3/django-storages.

One moto server per test session; each test gets its own bucket, and the settings point the
default storage at it exactly as production's S3_* variables would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "ru-central1"


class FakeS3:
    def __init__(self, endpoint_url: str, bucket: str):
        self.endpoint_url = endpoint_url
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        self.client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})

    def names(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def get(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(_moto_server, settings) -> FakeS3:
    """A fresh bucket behind the default storage; no public domain (set S3_PUBLIC_DOMAIN to test
    the CDN branch of the URL rule)."""
    fake = FakeS3(_moto_server, f"media-{uuid.uuid4().hex[:12]}")
    settings.S3_ACCESS_KEY = ACCESS_KEY
    settings.S3_SECRET_KEY = SECRET_KEY
    settings.S3_BUCKET_NAME = fake.bucket
    settings.S3_ENDPOINT_URL = _moto_server
    settings.S3_REGION_NAME = REGION
    settings.S3_PUBLIC_DOMAIN = ""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "media.storage.PublicS3Storage"}}
    return fake
