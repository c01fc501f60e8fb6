"""Celery tasks for payments: thin, named after the service each calls, imported in its body."""

from celery import shared_task


@shared_task(ignore_result=True)
def payments_sync() -> int:
    """Beat's safety net for lost webhooks (see services.payments_sync)."""
    from payments.services import payments_sync

    return payments_sync()
