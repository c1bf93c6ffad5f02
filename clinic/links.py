"""``{% link %}``: the portal's links, each reversed once per process instead of once per link.

Django's ``{% url %}`` runs ``reverse()`` for every link (about 17 µs); ``/today/`` has about 28 (the menu, the days,
a tick and a tip per task), a tenth of the page's cost (docs/BENCHMARKS.md). A URL depends only on the URLconf, the
script prefix, the application namespace and the arguments, so ``{% link %}`` keeps the answers for those (a bounded
number of them) and otherwise behaves as ``{% url %}`` does: ``{% link 'recovery:tip' tip.slug %}``,
``{% link 'recovery:tick' step.id as tick_url %}``. Loaded in every template (TEMPLATES' ``builtins``).
"""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def link(context, viewname, *args):
    return _reversed(viewname, args, _current_app(context.get("request")), get_script_prefix(), _urlconf())


def link_to(viewname, *args):
    """``{% link %}`` for Python code, e.g. a column of an admin list that links every row to the same page."""
    return _reversed(viewname, args, None, get_script_prefix(), _urlconf())


def _urlconf():
    # A request may name its own URLconf (request.urlconf); otherwise the setting, which tests may override.
    return get_urlconf() or settings.ROOT_URLCONF


def _current_app(request):
    # As {% url %} chooses among instances of a namespaced application.
    current_app = getattr(request, "current_app", None)
    if current_app is None:
        current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
    return current_app


@functools.lru_cache(maxsize=4096)  # a few hundred kilobytes at most: menus, tips, and the steps being ticked
def _reversed(viewname, args, current_app, script_prefix, urlconf):
    # The script prefix is part of the key only: reverse() reads it itself.
    return reverse(viewname, args=args, current_app=current_app, urlconf=urlconf)
