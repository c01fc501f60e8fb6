from celery import shared_task

from payments import services


@shared_task(ignore_result=True)
def payments_sync() -> int:
    """Beat's safety net for lost webhooks (see services.payments_sync)."""
    return services.payments_sync()
