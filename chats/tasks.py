"""Celery tasks for chats: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from chats import openrouter, services

# OpenRouter records a generation shortly after it ends; until then /generation answers 404.
SETTLE_RETRIES = 6


@shared_task(bind=True, max_retries=SETTLE_RETRIES)
def reply_settle_from_generation(self, message_id: int, generation_id: str) -> str:
    """Charges a reply that ended without usage by what OpenRouter recorded for it.

    Retried with backoff while OpenRouter has no record or cannot be reached; after the last
    try the reply is charged by an estimate of the streamed text. Never more than the hold.
    """
    try:
        usage = openrouter.generation_stats(generation_id)
    except openrouter.OpenRouterError as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
        services.reply_settle_estimated(message_id=message_id)
        return "estimated"
    services.reply_settle(message_id=message_id, usage=usage)
    return "settled"
