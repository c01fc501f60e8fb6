"""config.stream.StreamHandler.handle is a copy of Django 5.2's `ASGIHandler.handle` with the
request bookkeeping kept in the loop. A copy silently misses upstream fixes, so it is pinned to
the source it was made from: when Django's changes (an upgrade), this fails and the copy is
compared with the new original before the hash is updated."""

import hashlib
import inspect

from django.core.handlers.asgi import ASGIHandler

# sha256 of `inspect.getsource(ASGIHandler.handle)` in Django 5.2.19.
DJANGO_HANDLE_SHA256 = "98faeb5bef800331e6a8002fbc96b30e4122a23438ae45a047190a531ea11323"


def test_djangos_handle_is_the_one_the_stream_handler_copied():
    source = inspect.getsource(ASGIHandler.handle)

    assert hashlib.sha256(source.encode()).hexdigest() == DJANGO_HANDLE_SHA256, (
        "Django's ASGIHandler.handle changed: port the change to config.stream.StreamHandler.handle, "
        "then update DJANGO_HANDLE_SHA256"
    )
