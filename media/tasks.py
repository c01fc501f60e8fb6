"""Celery tasks for media: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

import logging
import time

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


# A poll that fails this many times in a row gives the job up (released, not charged).
POLL_RETRIES = 5


@shared_task(bind=True, max_retries=POLL_RETRIES)
def generation_poll(self, generation_id: str) -> None:
    """Asks Fal once; while the job runs, asks again MEDIA_POLL_INTERVAL_SECONDS later.

    Each run is a short task on the `media` queue (settings.CELERY_TASK_ROUTES): a worker is
    never held while Fal works, so ten slow videos cannot delay sign-in mail or settlements.
    Run inline (no broker), it waits in place instead: there is nobody else to ask later.

    Fal's trouble the service can wait out (no answer, a 5xx, a page that is not JSON) it
    waits out until the job's deadline. Anything else that goes wrong (a file host, our storage,
    a bug) is retried with backoff; after the last try the job is given up and its hold
    released, so no generation is left holding the user's money.
    """
    from media.services import generation_give_up, generation_poll

    try:
        while generation_poll(generation_id=generation_id).is_active:
            if not self.request.is_eager:
                self.apply_async((generation_id,), countdown=settings.MEDIA_POLL_INTERVAL_SECONDS)
                return
            time.sleep(settings.MEDIA_POLL_INTERVAL_SECONDS)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            logger.info("Generation %s: poll failed (%r), trying again", generation_id, exc)
            raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 60)) from exc
        logger.error(
            "Generation %s: giving up after %s failed polls: %r", generation_id, self.max_retries, exc
        )
        generation_give_up(generation_id=generation_id)


@shared_task
def generations_expire() -> int:
    from media.services import generations_expire

    return generations_expire()
