from allauth.account.decorators import secure_admin_login
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views

# Admin carries the site's name, and staff sign in the way everyone does (an emailed code or a
# provider): admin's own form would ask for a password and the Casdoor id. Signed in without
# staff rights, admin answers 403.
admin.site.site_header = format_lazy("{} · {}", settings.SITE_NAME, _("администрирование"))
admin.site.site_title = format_lazy("{} · {}", settings.SITE_NAME, _("администрирование"))
admin.site.index_title = _("Управление сайтом")
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("offer/", views.legal_page, {"page": "offer"}, name="legal_offer"),
    path("privacy/", views.legal_page, {"page": "privacy"}, name="legal_privacy"),
    path("contacts/", views.legal_page, {"page": "contacts"}, name="legal_contacts"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so no inline script is needed; Swagger
    # UI still sets inline styles, allowed on this page only.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    # The old system's URLs (config/views.py).
    path("login", views.old_login),
    path("login/<slug:provider>-direct", views.old_login),
    path("callback/<slug:provider>", views.old_callback),
    path("logout", views.old_logout),
    # Each app routes its own pages and its /api/ endpoints.
    path("", include("accounts.urls")),
    path("", include("wallets.urls")),
    path("", include("payments.urls")),
    path("", include("chats.urls")),
    path("", include("media.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
