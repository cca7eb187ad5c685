"""The HTML of a project card, for every list of projects (the catalogue,
territory pages, the CMS's territory pages).

The cards are written here rather than in a template: a list shows 24 of
them with some forty values and conditions each, and the template engine
spent about 0.12 ms a card resolving, localising and escaping them (a third
of the catalogue's rendering), where this takes a tenth of that. The markup is
the one projects/_project_cards.html used to hold, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


@dataclass(frozen=True)
class CardLabels:
    """The words every card repeats, translated once per list."""

    sector: str
    investment: str
    risk: str
    highlights: str
    returnee: str
    women: str
    endorsed: str
    following: str

    @classmethod
    def translated(cls) -> CardLabels:
        return cls(
            sector=escape(gettext("Sector")),
            investment=escape(gettext("Investment")),
            risk=escape(gettext("Risk")),
            highlights=escape(gettext("Highlights")),
            returnee=escape(gettext("Returnee-led")),
            women=escape(gettext("Women-led")),
            endorsed=escape(gettext("Endorsed by the local government")),
            following=escape(gettext("You follow this project.")),
        )


def card_html(project, labels: CardLabels) -> SafeString:
    """One card, from the values projects.selectors.prepare_cards worked out
    (`url`, `place`, `card_image`, `sector_label`, `funding_text`, ...)."""
    pk = project.pk
    image = project.card_image
    if image:
        media = (
            f'<img src="{escape(image.url)}" width="{image.width}" height="{image.height}" '
            f'alt="{escape(image.alt)}" loading="lazy">\n'
        )
    else:
        media = (
            '<div class="image-placeholder" aria-hidden="true">'
            f"<span>{escape(project.initial)}</span></div>"
        )
    parts = [
        f'<li><article class="project-card" aria-labelledby="project-{pk}-title">\n'
        f'  <h3 id="project-{pk}-title" class="project-card-title">'
        f'<a href="{escape(project.url)}">{escape(project.title)}</a></h3>\n'
        f'  <div class="project-card-media">\n    {media}\n  </div>\n  ',
    ]
    if project.place:
        parts.append(f'<p class="project-place">{escape(project.place)}</p>')
    parts.append("\n  ")
    if project.summary:
        parts.append(f'<p class="project-summary">{escape(project.summary)}</p>')
    parts.append('\n  <dl class="project-facts">\n    ')
    if project.sector:
        parts.append(f"<div><dt>{labels.sector}</dt><dd>{escape(project.sector_label)}</dd></div>")
    parts.append("\n    ")
    if project.instrument:
        parts.append(
            f"<div><dt>{labels.investment}</dt><dd>{escape(project.instrument_label)}</dd></div>"
        )
    parts.append("\n    ")
    if project.risk_rating:
        parts.append(f"<div><dt>{labels.risk}</dt><dd>{escape(project.risk_label)}</dd></div>")
    parts.append("\n  </dl>\n  ")
    if project.funding_text:
        parts.append(
            '\n<div class="funding">\n'
            '  <div class="funding-bar" aria-hidden="true">'
            f'<span style="width: {project.bar_percent}%"></span></div>\n'
            f'  <p class="funding-text">{escape(project.funding_text)}</p>\n'
            "</div>\n"
        )
    parts.append("\n  ")
    if project.led_by_returnee or project.led_by_woman or project.is_endorsed:
        parts.append(f'\n<ul class="badges" aria-label="{labels.highlights}">\n  ')
        if project.led_by_returnee:
            parts.append(f'<li class="badge badge-ok">{labels.returnee}</li>')
        parts.append("\n  ")
        if project.led_by_woman:
            parts.append(f'<li class="badge badge-ok">{labels.women}</li>')
        parts.append("\n  ")
        if project.is_endorsed:
            parts.append(f'<li class="badge badge-ok">{labels.endorsed}</li>')
        parts.append("\n</ul>\n")
    parts.append("\n  ")
    if project.is_followed:
        parts.append(f'<p class="project-following">{labels.following}</p>')
    parts.append("\n</article>\n</li>\n")
    # Every value above went through html.escape() (what Django's escape()
    # calls, without its check for lazy strings); the rest is literal markup.
    return mark_safe("".join(parts))  # noqa: S308
