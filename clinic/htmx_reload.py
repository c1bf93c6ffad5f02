"""An htmx request that cannot get its fragment makes the browser reload the page it is on.

htmx swaps the answer of a tick into the task's row. Two answers must not be swapped: a redirect (signed out: the
browser would follow it and put the whole login page inside the row; its ``next`` would be the tick's address, a
POST-only one) and an error (404, 403, 503: htmx ignores them, so the tap would seem to do nothing). For both the
answer says ``HX-Refresh: true``: the page reloads, and shows what is true now (the login page, which then comes
back to the same day; the day as it is; the "try again shortly" page). Without JavaScript nothing changes.
"""

from django_htmx.http import HttpResponseClientRefresh

REDIRECTS = {301, 302, 303, 307, 308}


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
        return response
