"""A running generation never holds a Celery worker: each poll of Fal is a short task that
re-enqueues itself, on the `media` queue. Proven with a real worker (one process slot, so a task
that waited on Fal would keep everything else queued behind it)."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from accounts import tasks as accounts_tasks
from config.celery import app as celery_app
from media import services
from media.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_worker(settings):
    """A solo worker thread on both queues, tasks sent through the broker (not run inline)."""
    settings.MEDIA_POLL_INTERVAL_SECONDS = 0.2
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(
            celery_app, pool="solo", concurrency=1, perform_ping_check=False, queues=["celery", "media"]
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True


def wait_until(predicate, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_other_tasks_run_while_a_generation_is_still_running(alice, fund, image_model, fal, s3, real_worker):
    fund(alice)
    fal.gate.clear()  # Fal keeps the job IN_PROGRESS until the test lets it finish
    generation = services.generation_start(user=alice, model=image_model, prompt="a purple cat")
    wait_until(lambda: len([r for r in fal.server.requests if r.path.endswith("/status")]) >= 2)

    # The one worker slot is free for the default queue's work meanwhile.
    accounts_tasks.cleanup_sessions.delay().get(timeout=10)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING

    fal.gate.set()
    wait_until(lambda: Generation.objects.get(pk=generation.pk).status == Generation.Status.COMPLETED)
    polls = [r for r in fal.server.requests if r.path.endswith("/status")]
    assert len(polls) >= 3
