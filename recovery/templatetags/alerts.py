from django import template
from django.utils.html import format_html, format_html_join

from recovery import safety

register = template.Library()


@register.filter
def alert_history(reason):
    """An alert's reason as a clinician reads it: what it says now first, then each earlier version on a line of its
    own, oldest first (one paragraph of them could not be read at a glance)."""
    now, entries = safety.reason_parts(reason)
    if not entries:
        return now
    earlier = format_html_join("", "<li>{}</li>", ((entry,) for entry in entries))
    return format_html('{}<ul class="apex-alert-history">{}</ul>', now, earlier)
