from django import template

from portal import jinja

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja_partial(context, template_name: str, **values):
    """A Jinja2 partial shown in a Django template, with these values, e.g.
    `{% jinja_partial "projects/_impact.html" impact=page.impact %}`: the
    partials the project page (Jinja2) shares with other pages."""
    return jinja.render(template_name, values, context.get("request"))
