from django.conf import settings


def site(request) -> dict:
    """What every page's layout needs: the site's name, the seller and their contacts (footer)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "LEGAL": {
            "entity": settings.LEGAL_ENTITY,
            "inn": settings.LEGAL_INN,
            "ogrn": settings.LEGAL_OGRN,
            "address": settings.LEGAL_ADDRESS,
            "email": settings.SUPPORT_EMAIL,
            "phone": settings.SUPPORT_PHONE,
        },
    }
