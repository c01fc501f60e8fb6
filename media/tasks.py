"""Celery tasks for media: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

from celery import shared_task
from django.conf import settings


@shared_task(
    # The poll waits for Fal up to the generation's deadline; the hard limit leaves it room to
    # copy the result afterwards.
    soft_time_limit=settings.MEDIA_GENERATION_TIMEOUT + 120,
    time_limit=settings.MEDIA_GENERATION_TIMEOUT + 180,
    # Fal, a file host, our storage or database in trouble: try again; a finished generation is
    # left as it is, and a job still open after the retries is failed by generations_expire.
    autoretry_for=(Exception,),
    max_retries=2,
    retry_backoff=True,
)
def generation_poll(generation_id: str) -> None:
    from media.services import generation_poll

    generation_poll(generation_id=generation_id)


@shared_task
def generations_expire() -> int:
    from media.services import generations_expire

    return generations_expire()
