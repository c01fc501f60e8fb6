from django.conf import settings


def site(request) -> dict:
    """What every page's layout needs: the site's name."""
    return {"SITE_NAME": settings.SITE_NAME}
