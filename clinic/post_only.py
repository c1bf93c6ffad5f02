"""Actions that only a form may send, and what a person who opens their address anyway sees.

A form sent after the session ran out goes to the login page, whose ``?next=`` keeps the action's address but not
the form: once signed in again the browser opens that address with a GET. Django's ``require_POST`` answers a
blank 405 there and the patient never learns that the tick was not saved. ``post_only`` sends them to the page the
form was on instead, with a word that nothing was saved.
"""

import functools

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect

NOT_SAVED = "That wasn't saved, perhaps because you had been signed out. Please try again."


def post_only(page, *, keep=()):
    """Only a POST reaches the view; a GET or HEAD is sent to the URL name ``page`` (with the URL's arguments named
    in ``keep``), anything else is refused with a 405."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["POST"])
            if request.user.is_authenticated:
                messages.info(request, NOT_SAVED)
            return redirect(page, **{name: kwargs[name] for name in keep})

        return wrapper

    return decorator
