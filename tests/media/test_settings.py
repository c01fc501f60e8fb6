import json

from tests.helpers import run_python

S3 = {
    "S3_ACCESS_KEY": "key",
    "S3_SECRET_KEY": "secret",
    "S3_BUCKET_NAME": "files",
    "S3_ENDPOINT_URL": "http://minio.local:9000/",
    "S3_REGION_NAME": "ru-central1",
}
SCRIPT = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "from django.core.files.storage import default_storage as d;"
    "print(json.dumps([s.STORAGES['default']['BACKEND'], d.url('uploads/2026/11/a b.png'),"
    " s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'][-1]]))"
)


def settings_with(**environ: str) -> list:
    done = run_python("-c", SCRIPT, **environ)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_s3_variables_files_go_to_s3_at_the_endpoint_bucket_address():
    backend, url, img_src = settings_with(**S3, S3_PUBLIC_DOMAIN="")

    assert backend == "media.storage.PublicS3Storage"
    assert url == "http://minio.local:9000/files/uploads/2026/11/a%20b.png"
    # A plain-http bucket must still be allowed to show its pictures.
    assert img_src == "http://minio.local:9000"


def test_with_a_public_domain_files_are_addressed_through_it():
    _, url, img_src = settings_with(**S3, S3_PUBLIC_DOMAIN="https://cdn.example.ru/")

    assert url == "https://cdn.example.ru/uploads/2026/11/a%20b.png"
    # Pictures may come from the public domain, and from no other site.
    assert img_src == "https://cdn.example.ru"


def test_without_s3_files_stay_on_local_disk_under_media_url():
    backend, url, img_src = settings_with(S3_BUCKET_NAME="", S3_ENDPOINT_URL="", S3_PUBLIC_DOMAIN="")

    assert backend == "django.core.files.storage.FileSystemStorage"
    assert url == "/uploads/uploads/2026/11/a%20b.png"
    # Our own origin only: no third party's picture can load (nothing to exfiltrate through).
    assert img_src == "blob:"
