from django import template

from recovery import workspace
from recovery.clock import clinic_today

register = template.Library()


@register.simple_tag(takes_context=True)
def needs_attention(context):
    return workspace.needs_attention(context["request"].user, clinic_today())
