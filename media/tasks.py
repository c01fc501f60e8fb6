import time

from celery import shared_task
from django.conf import settings

from media import services


@shared_task(
    bind=True,
    # Fal, a file host, our storage or database in trouble: try again; a finished generation is
    # left as it is, and a job still open after the retries is failed by generations_expire.
    autoretry_for=(Exception,),
    max_retries=2,
    retry_backoff=True,
)
def generation_poll(self, generation_id: str) -> None:
    """Asks Fal once; while the job runs, asks again MEDIA_POLL_INTERVAL_SECONDS later.

    Each run is a short task on the `media` queue (settings.CELERY_TASK_ROUTES): a worker is
    never held while Fal works, so ten slow videos cannot delay sign-in mail or settlements.
    Run inline (no broker), it waits in place instead: there is nobody else to ask later.
    """
    while services.generation_poll(generation_id=generation_id).is_active:
        if not self.request.is_eager:
            self.apply_async((generation_id,), countdown=settings.MEDIA_POLL_INTERVAL_SECONDS)
            return
        time.sleep(settings.MEDIA_POLL_INTERVAL_SECONDS)


@shared_task
def generations_expire() -> int:
    return services.generations_expire()
