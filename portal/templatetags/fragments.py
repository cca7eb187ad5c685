from django import template

from portal.registry import render_fragments

register = template.Library()


@register.simple_tag(takes_context=True)
def fragments(context, slot: str, obj):
    """What other apps registered for this slot of the page, e.g.
    `{% fragments "project.offerings" project as offerings %}`."""
    return render_fragments(slot, context.get("request"), obj)
