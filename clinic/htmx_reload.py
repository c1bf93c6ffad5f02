"""An htmx request that cannot get its fragment makes the browser reload the page it is on.

htmx swaps the answer of a tick into the task's row. Two answers must not be swapped: a redirect (signed out: the
browser would follow it and put the whole login page inside the row; its ``next`` would be the tick's address, a
POST-only one) and an error (404, 403, 503: htmx ignores them, so the tap would seem to do nothing). For both the
answer says ``HX-Refresh: true``: the page reloads, and shows what is true now (the login page, which then comes
back to the same day; the day as it is; the "try again shortly" page). Without JavaScript nothing changes.

A form refused outright (its security token stale after signing in again in another tab: 403; a 404) saved
nothing, and the reloaded page, scrolled to its top, looked as if the tap had simply worked: it says so there, read
out at once. A server error may have come after the write, so that page says only that it may not have been saved.
The signed-out redirect has its own message (accounts.middleware.UnsavedPostMiddleware).
"""

from django.contrib import messages
from django_htmx.http import HttpResponseClientRefresh

REDIRECTS = {301, 302, 303, 307, 308}
NOT_SAVED = "Your last tap was not saved. Please tap it again."
MAYBE_NOT_SAVED = "Something went wrong: your last tap may not have been saved. Check the task before you tap again."


class HtmxReloadMiddleware:
    """After django-htmx's middleware, which sets ``request.htmx``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.htmx:
            return response
        if response.status_code in REDIRECTS:
            return HttpResponseClientRefresh()  # a 200: the browser must not follow the redirect itself
        if response.status_code >= 400:
            response["HX-Refresh"] = "true"
            if request.method == "POST":
                # Kept in the messages cookie (Django's default storage), so a CSRF failure, or a database away,
                # still carries it to the reloaded page.
                words = MAYBE_NOT_SAVED if response.status_code >= 500 else NOT_SAVED
                messages.error(request, words, extra_tags="announce", fail_silently=True)
        return response
