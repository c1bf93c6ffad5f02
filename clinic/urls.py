from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import two_factor
from accounts import views as account_views
from accounts.frontdesk import welcome
from clinic import errors

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): send them to the portal's.
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg"), name="favicon"),
    # The "too much to send" page (413), which the TLS proxy shows when it refuses a body itself (deploy/nginx.conf).
    path("too-big/", errors.too_big_page, name="too_big"),
    path("accounts/", include("accounts.urls")),
    path("front-desk/", include("accounts.frontdesk.urls")),
    # The invitation link sent by e-mail and printed as a QR code (accounts/frontdesk/invitations.py).
    path("welcome/<uidb64>/<token>/", welcome.InvitationAcceptView.as_view(), name="welcome"),
    path("privacy/", welcome.privacy_notice, name="privacy"),
    path("", include("recovery.urls")),
    # /account/reminders/ and the unsubscribe link of every reminder (reminders/urls.py).
    path("", include("reminders.urls")),
    # Staff sign in through the portal's login and its two-factor step, never the admin's own form.
    path("admin/login/", two_factor.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

# Error pages that never need the database: a lost database is a 503 "try again shortly", a body too big a 413.
handler400 = "clinic.errors.bad_request"
handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
