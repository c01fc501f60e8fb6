"""The S3 storage behind uploads and generated files, configured from the S3_* settings."""

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class PublicS3Storage(S3Storage):
    """Objects are public; their URL is the one the old front end and Casdoor pages expect:
    `{S3_PUBLIC_DOMAIN}/{name}` when a public domain (CDN) is set, else
    `{S3_ENDPOINT_URL}/{bucket}/{name}`.
    """

    def __init__(self, **options) -> None:
        defaults = {
            "access_key": settings.S3_ACCESS_KEY,
            "secret_key": settings.S3_SECRET_KEY,
            "bucket_name": settings.S3_BUCKET_NAME,
            "endpoint_url": settings.S3_ENDPOINT_URL or None,
            "region_name": settings.S3_REGION_NAME or None,
            # Names carry a fresh UUID; never silently replace an object.
            "file_overwrite": False,
            "querystring_auth": False,
            # The URLs handed out are plain public addresses: objects must be readable by anyone
            # (empty S3_OBJECT_ACL when a bucket policy grants that instead).
            "default_acl": settings.S3_OBJECT_ACL or None,
        }
        super().__init__(**{**defaults, **options})

    def url(self, name: str, parameters=None, expire=None, http_method=None) -> str:
        if settings.S3_PUBLIC_DOMAIN:
            base = settings.S3_PUBLIC_DOMAIN
        elif settings.S3_ENDPOINT_URL:
            base = f"{settings.S3_ENDPOINT_URL}/{self.bucket_name}"
        else:
            # Plain AWS: boto3 knows the bucket's own address.
            return super().url(name, parameters, expire, http_method)
        return f"{base}/{filepath_to_uri(name)}"
