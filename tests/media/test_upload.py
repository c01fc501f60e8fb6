import io
import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from media.models import Upload
from media.services import upload_url_is_owned
from tests.media.conftest import image_bytes

NAME = re.compile(r"^uploads/\d{4}/\d{2}/[0-9a-f-]{36}\.(jpg|png|webp|gif)$")
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def post(client: Client, data: bytes, filename: str = "photo.png", content_type: str = "image/png"):
    return client.post("/api/upload", {"file": SimpleUploadedFile(filename, data, content_type=content_type)})


def noise(image_format: str, size: tuple[int, int] = (300, 300)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(out, format=image_format)
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A few bytes that claim to be a huge PNG: the IHDR of a 1×1 picture, resized."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(data)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_real_image_lands_in_the_bucket_under_the_endpoint_bucket_url(
    alice_client, alice, s3, image_format
):
    response = post(alice_client, image_bytes(image_format), f"picture.{image_format.lower()}")

    assert response.status_code == 201, response.content
    [name] = s3.names()
    assert NAME.match(name)
    assert response.json() == {"url": f"{s3.endpoint_url}/{s3.bucket}/{name}"}
    with Image.open(io.BytesIO(s3.get(name))) as stored:
        assert stored.format == image_format
        assert stored.size == (40, 30)
    upload = Upload.objects.get()
    assert (upload.owner, upload.name, upload.url) == (alice, name, response.json()["url"])
    assert (upload.width, upload.height, upload.content_type) == (40, 30, CONTENT_TYPES[image_format])
    assert upload.size == len(s3.get(name))


def test_with_a_public_domain_the_url_is_the_domain_and_the_name(alice_client, s3, settings):
    settings.S3_PUBLIC_DOMAIN = "https://cdn.example.com"

    response = post(alice_client, image_bytes("JPEG"), "photo.jpg", "image/jpeg")

    [name] = s3.names()
    assert response.json() == {"url": f"https://cdn.example.com/{name}"}


def test_without_s3_the_file_goes_to_local_disk_and_the_app_serves_it(alice_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = post(alice_client, image_bytes("PNG"))

    url = response.json()["url"]
    assert re.match(r"^/uploads/uploads/\d{4}/\d{2}/[0-9a-f-]{36}\.png$", url)
    served = alice_client.get(url)
    assert served.status_code == 200
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).format == "PNG"


def test_a_phones_mpo_photo_is_stored_as_a_plain_jpeg(alice_client, s3):
    mpo = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(
        mpo, format="MPO", save_all=True, append_images=[Image.new("RGB", (40, 30), "blue")]
    )

    response = post(alice_client, mpo.getvalue(), "photo.jpg", "image/jpeg")

    assert response.status_code == 201
    [name] = s3.names()
    assert name.endswith(".jpg")
    with Image.open(io.BytesIO(s3.get(name))) as stored:
        assert stored.format == "JPEG"
        assert getattr(stored, "n_frames", 1) == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"Hello, I am a text file pretending to be a PNG.\n" * 10, "не изображение"),
        (noise("JPEG")[:3000], "повреждено"),
        (noise("PNG")[:3000], "повреждено"),
        (bomb_png(20_000, 20_000), "пикселей"),
        (bomb_png(60_000, 60_000), "пикселей"),
        (image_bytes("BMP"), "не изображение"),
    ],
    ids=["text-renamed-png", "truncated-jpeg", "truncated-png", "bomb", "bomb-beyond-pillow", "bmp"],
)
def test_anything_but_a_whole_supported_image_is_refused_and_nothing_is_stored(
    alice_client, s3, data, problem
):
    response = post(alice_client, data, "cat.png", "image/png")

    assert response.status_code == 400
    assert problem in response.json()["detail"]
    assert s3.names() == []
    assert not Upload.objects.exists()


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(alice_client, s3, settings):
    settings.MEDIA_UPLOAD_MAX_BYTES = 10_000
    data = noise("PNG")
    assert len(data) > 10_000

    response = post(alice_client, data)

    assert response.status_code == 400
    assert "МБ" in response.json()["detail"]
    assert s3.names() == []
    assert not Upload.objects.exists()


def test_a_request_without_a_file_is_a_json_400(alice_client, s3):
    response = alice_client.post("/api/upload", {})

    assert response.status_code == 400
    assert response.json()["detail"]


def test_gps_and_every_other_exif_tag_are_gone_from_the_stored_copy(alice_client, s3):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}  # GPSInfo
    original = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(original, format="JPEG", exif=exif, comment=b"home address")
    assert Image.open(io.BytesIO(original.getvalue())).getexif().get_ifd(0x8825)

    response = post(alice_client, original.getvalue(), "photo.jpg", "image/jpeg")

    [name] = s3.names()
    stored = s3.get(name)
    with Image.open(io.BytesIO(stored)) as image:
        assert dict(image.getexif()) == {}
        assert "comment" not in image.info
        # The rotation was applied to the pixels before the EXIF went.
        assert image.size == (30, 40)
    assert b"PhoneMaker" not in stored
    assert b"home address" not in stored
    assert response.status_code == 201


def test_a_signed_out_upload_is_a_json_401_and_stores_nothing(client, s3):
    response = post(client, image_bytes("PNG"))

    assert response.status_code == 401
    assert response.json()["detail"]
    assert s3.names() == []


def test_the_upload_enforces_csrf_for_a_session(alice, s3):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = post(client, image_bytes("PNG"))

    assert response.status_code == 403
    assert response.json()["detail"]
    assert s3.names() == []


def test_only_the_users_own_upload_urls_count_as_theirs(alice_client, alice, bob, s3):
    url = post(alice_client, image_bytes("PNG")).json()["url"]

    assert upload_url_is_owned(user=alice, url=url)
    assert not upload_url_is_owned(user=bob, url=url)
    assert not upload_url_is_owned(user=alice, url="https://evil.example.com/cat.png")
    assert not upload_url_is_owned(user=alice, url=url + "?x=1")


@pytest.mark.parametrize(
    "name",
    [
        "secret.txt",
        "db.sqlite3",
        "config/settings.py",
        "uploads/2026/12/0b0a2c9e-5a51-4f7e-9d3e-2b8c8d0f6a11.py",
        "uploads/notes/0b0a2c9e-5a51-4f7e-9d3e-2b8c8d0f6a11.png",
    ],
)
def test_the_local_file_view_serves_only_names_the_app_gives_media(client, db, settings, tmp_path, name):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("SECRET_KEY = 'not for the world'")

    response = client.get(f"/uploads/{name}")

    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.content


def test_the_local_file_view_does_not_step_out_of_the_media_root(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "uploads" / "2026" / "12").mkdir(parents=True)
    name = "0b0a2c9e-5a51-4f7e-9d3e-2b8c8d0f6a11.png"
    (tmp_path / "uploads" / "2026" / "12" / name).write_bytes(b"outside")

    for path in (f"/uploads/../uploads/2026/12/{name}", f"/uploads/%2e%2e/uploads/2026/12/{name}"):
        assert client.get(path).status_code == 404
