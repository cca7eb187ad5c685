"""A short-lived cache of the public pages anonymous visitors see.

`anonymous_page_cache` wraps the catalogue and the project page. For an
anonymous GET or HEAD, with no message waiting in the session or the messages
cookie, it answers from the cache when it can, keyed by the page's absolute URL
(scheme, host, path and query string, so `?sector=health` and
`?sector=health&page=2` are different pages) and the active language. It keeps
a rendered page for `settings.PUENTE_ANONYMOUS_PAGE_SECONDS` (60 by default; 0
turns the cache off) and marks the anonymous answer `Cache-Control: max-age=`
the same number of seconds.

What is never cached: a signed-in person's page (always rendered afresh and
marked `private`), a request with messages to show, a response that is not a
200, a streaming response, a response that sets a cookie or changes the
session, a response that says `private`/`no-store`/`no-cache`, and a response
the view marked with `do_not_cache()` (the project page does so for a project
that is not published, whoever may see it).

Staleness. Every key carries a generation number kept in the same cache.
`pages_changed()` moves it on once the current transaction commits, so every
cached page is out of date at once: it is called when a project or anything
on its page is saved or deleted (signals, connected in ProjectsConfig.ready),
and by finance wherever funding figures, an offering's remaining amount or a
matching pool change, including its UPDATE statements that send no signal.
What the cache cannot see: a change made outside the portal's code (raw SQL
in a shell), which shows after at most PUENTE_ANONYMOUS_PAGE_SECONDS. The
generation is only shared between processes when the cache is (Redis when
REDIS_URL is set); with the per-process memory cache of the embedded setup,
another process may serve its own copy until the TTL ends. Signed-in people
always see the current figures.

CSRF. Every page carries the language switcher, a POST form with a CSRF token
tied to the visitor's own CSRF cookie. The cached copy stores a placeholder
instead of the token, and each visitor gets a token for their own cookie when
the page is served (a visitor without the cookie is given one, as on an
uncached page). Because a response that issues a new CSRF cookie must not be
kept by a shared cache (every later visitor would get the same secret), such a
response says `Cache-Control: private, max-age=N`; a visitor who already has
the cookie gets `public, max-age=N` and no Set-Cookie (the existing cookie's
expiry is simply not renewed on these pages). `Vary: Cookie` is always set;
`Vary: Accept-Language` only when the language does not come from the URL
(with i18n_patterns' language prefix it never does for these pages).
"""

from __future__ import annotations

import functools
import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import SafeString, mark_safe

DEFAULT_SECONDS = 60
KEY_PREFIX = "puente:anonymous-page:v1"
CSRF_PLACEHOLDER = b"\x00puente-csrf-token\x00"
# A masked CSRF token: 64 characters from CSRF_ALLOWED_CHARS, not part of a
# longer word.
_MASKED_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_UNCACHEABLE_DIRECTIVES = ("private", "no-store", "no-cache")
_DO_NOT_CACHE = "_puente_do_not_cache"


def page_seconds() -> int:
    return int(getattr(settings, "PUENTE_ANONYMOUS_PAGE_SECONDS", DEFAULT_SECONDS))


def do_not_cache(response: HttpResponse) -> HttpResponse:
    """Mark a response that must never go into the anonymous page cache, nor
    be declared cacheable to browsers and proxies."""
    setattr(response, _DO_NOT_CACHE, True)
    return response


GENERATION_KEY = f"{KEY_PREFIX}:generation"


def cache_key(request) -> str:
    language = translation.get_language() or settings.LANGUAGE_CODE
    url = request.build_absolute_uri()  # scheme, host, path and query string
    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()
    generation = cache.get(GENERATION_KEY, 0)
    return f"{KEY_PREFIX}:{generation}:{language}:{digest}"


def pages_changed(**_signal_arguments) -> None:
    """What anonymous pages show has changed: once the transaction commits (so
    that no page rendered from the old rows is kept under the new number),
    every cached page is out of date. Usable as a signal receiver."""
    if page_seconds() > 0:
        transaction.on_commit(_next_generation)


def _next_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet (or it was evicted): start one
        if not cache.add(GENERATION_KEY, 1, timeout=None):
            cache.incr(GENERATION_KEY)


def _is_signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _has_messages(request) -> bool:
    # len() loads the stored messages without marking them as read.
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _language_from_url(request) -> bool:
    return translation.get_language_from_path(request.path_info) is not None


def _has_csrf_cookie(request) -> bool:
    """Whether the visitor sent a valid CSRF cookie (CsrfViewMiddleware read it
    into META and did not have to issue a new one)."""
    return "CSRF_COOKIE" in request.META and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")


def _storable(request, response) -> bool:
    if getattr(response, _DO_NOT_CACHE, False):
        return False
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if any(directive in cache_control for directive in _UNCACHEABLE_DIRECTIVES):
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.modified)


def _freeze(request, response) -> dict:
    """What the cache keeps: status, headers and body, with the visitor's CSRF
    tokens replaced by a placeholder."""
    content = response.content
    secret = request.META.get("CSRF_COOKIE")
    if secret:

        def placeholder(match):
            token = match.group(0).decode("ascii")
            return CSRF_PLACEHOLDER if _unmask_cipher_token(token) == secret else match.group(0)

        content = _MASKED_TOKEN.sub(placeholder, content)
    return {
        "status": response.status_code,
        "headers": [(name, value) for name, value in response.headers.items()],
        "content": content,
    }


def _thaw(request, frozen: dict) -> HttpResponse:
    content = frozen["content"]
    if CSRF_PLACEHOLDER in content:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode("ascii"))
    response = HttpResponse(content, status=frozen["status"])
    for name, value in frozen["headers"]:
        response.headers[name] = value
    return response


def _mark_anonymous(request, response, *, had_csrf_cookie: bool, seconds: int) -> None:
    if had_csrf_cookie and request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        # Only a renewal of the cookie the visitor already has: skip it, so
        # that the response carries no Set-Cookie and may be shared.
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    issues_cookie = bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))
    if issues_cookie:
        patch_cache_control(response, private=True, max_age=seconds)
    else:
        patch_cache_control(response, public=True, max_age=seconds)
    patch_vary_headers(response, ("Cookie",))
    if not _language_from_url(request):
        patch_vary_headers(response, ("Accept-Language",))


def anonymous_page_cache(view):
    """Serve anonymous GET/HEAD requests from a short-lived page cache; see the
    module's docstring for what is cached, for how long and how stale it may be."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = page_seconds()
        if (
            seconds <= 0
            or request.method not in ("GET", "HEAD")
            or _is_signed_in(request)
            or _has_messages(request)
        ):
            response = view(request, *args, **kwargs)
            if _is_signed_in(request):
                patch_cache_control(response, private=True)
                patch_vary_headers(response, ("Cookie",))
            return response

        had_csrf_cookie = _has_csrf_cookie(request)
        key = cache_key(request)
        frozen = cache.get(key)
        if frozen is not None:
            response = _thaw(request, frozen)
        else:
            response = view(request, *args, **kwargs)
            if not _storable(request, response):
                return response
            cache.set(key, _freeze(request, response), seconds)
        _mark_anonymous(request, response, had_csrf_cookie=had_csrf_cookie, seconds=seconds)
        return response

    return wrapper


# --- The filter form's fields ------------------------------------------------------
# Django renders each <option> of a select through a template: the catalogue's
# country, place, sector, goal, investment, risk and status lists cost more
# than all the cards together. Their HTML depends only on the field, its value,
# its choices and the language, so each process renders it once and keeps it.
# Labels too go through a template each (two, with the attributes); a label
# depends only on the field and the language.
_WIDGET_HTML: dict[str, str] = {}
_WIDGET_HTML_MAX = 1024


class PrerenderedField:
    """A bound field whose label and, for a field with a bounded set of
    values, widget HTML were rendered before (or taken from the per-process
    store); everything else (errors, label, value) is the bound field's own."""

    def __init__(self, bound_field, html, label_html):
        self._bound_field = bound_field
        self._html = html
        self._label_html = label_html

    def __str__(self):
        return self._html if self._html is not None else str(self._bound_field)

    def __html__(self):
        return str(self)

    def label_tag(self):
        return self._label_html

    def as_field_group(self) -> SafeString:
        """The field with its label and errors, in the markup the catalogue's
        form gives each field (once projects/_field.html): written here, as
        including a template costs some 50 µs a field."""
        errors = self.errors
        # The label, the errors and the widget are HTML already.
        return mark_safe(  # noqa: S308
            f'<div class="field{" field-invalid" if errors else ""}">\n'
            f"  {self._label_html}\n"
            f"  {errors if errors else ''}\n"
            f"  {self}\n"
            "</div>\n"
        )

    def __getattr__(self, name):
        return getattr(self._bound_field, name)


def _choices_text(choices) -> str:
    parts = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            parts.append(f"[{value}:{_choices_text(label)}]")
        else:
            parts.append(f"{value!r}={label}")
    return "\x1f".join(parts)


def _kept(signature: str, render) -> str:
    key = hashlib.sha256(signature.encode()).hexdigest()
    html = _WIDGET_HTML.get(key)
    if html is None:
        html = render()
        if len(_WIDGET_HTML) >= _WIDGET_HTML_MAX:
            _WIDGET_HTML.clear()
        _WIDGET_HTML[key] = html
    return html


def prerendered_fields(
    form, names, *, labels_only=(), choices_from_data=()
) -> dict[str, PrerenderedField]:
    """The form's fields `names`, each with its label and widget rendered once
    per process for a given language, value and list of choices, and the
    fields `labels_only` (whose values are free text), with their label only.
    A field with errors is rendered afresh (its widget then carries aria
    attributes).

    The choices of the fields `choices_from_data` come from the database and
    are part of what identifies their HTML; those of the other fields are
    fixed in the code, so their language identifies them (writing out the
    translated list at each request would cost more than the rest)."""

    language = translation.get_language() or settings.LANGUAGE_CODE
    fields = {}
    for name in (*names, *labels_only):
        bound = form[name]
        widget = bound.field.widget
        identity = (
            language,
            bound.html_name,
            bound.auto_id or "",
            repr(sorted(widget.attrs.items())),
            type(widget).__name__,
        )
        label_html = _kept("\x1e".join(("label", *identity, str(bound.label))), bound.label_tag)
        if bound.errors:
            fields[name] = PrerenderedField(bound, bound.as_widget(), label_html)
        elif name in labels_only:
            fields[name] = PrerenderedField(bound, None, label_html)
        else:
            signature = "\x1e".join(
                (
                    *identity,
                    repr(bound.value()),
                    _choices_text(bound.field.choices) if name in choices_from_data else "",
                )
            )
            fields[name] = PrerenderedField(bound, _kept(signature, bound.as_widget), label_html)
    return fields
