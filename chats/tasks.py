"""Celery tasks for chats: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)

# OpenRouter records a generation shortly after it ends; until then /generation answers 404.
SETTLE_RETRIES = 6


@shared_task(bind=True, max_retries=SETTLE_RETRIES)
def reply_settle_from_generation(self, message_id: int, generation_id: str) -> str:
    """Charges a reply that ended without usage by what OpenRouter recorded for it.

    Whatever goes wrong (no record yet, OpenRouter down or slow, an answer that is not the
    record, a bug), the task asks again with backoff; after the last try the reply is charged by
    an estimate of the streamed text. Never more than the hold, and the hold is always closed.
    """
    from chats.services import reply_settle_estimated, reply_settle_from_generation

    try:
        reply_settle_from_generation(message_id=message_id, generation_id=generation_id)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            logger.info("Reply %s: no usable generation record yet (%r), asking again", message_id, exc)
            raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
        logger.warning("Reply %s: settling by an estimate, OpenRouter's record unusable: %r", message_id, exc)
        reply_settle_estimated(message_id=message_id)
        return "estimated"
    return "settled"


@shared_task
def replies_sweep() -> int:
    """Finishes replies whose server stopped mid-stream (Celery beat, every minute)."""
    from chats.services import replies_sweep

    return replies_sweep()
