from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import is_valid_path, translate_url
from django.utils import translation

from .registry import path_in_language


def _chosen_language(code: str | None) -> str | None:
    return code if code in dict(settings.LANGUAGES) else None


def url_in_language(url: str, language: str) -> str:
    """The same page in `language`: a content page's translation (its own slugs), else
    the URLconf's; a path without a language prefix gets one where the URLconf has the
    page only under a prefix (the back office at /admin/ has none and keeps its address)."""
    parts = urlsplit(url)
    shown_in = translation.get_language_from_path(parts.path)
    if shown_in is None:
        with translation.override(language):
            prefixed = f"/{language}{parts.path}"
            if is_valid_path(parts.path) or not is_valid_path(prefixed):
                return url
        return urlunsplit(parts._replace(path=prefixed))
    if shown_in == language:
        return url
    # The path resolves only in its own language (its prefix), as in set_language.
    with translation.override(shown_in):
        translated = path_in_language(parts.path, language)
        if translated:
            return urlunsplit(parts._replace(path=translated))
        return translate_url(url, language)


class AccountAdapter(DefaultAccountAdapter):
    """Account emails are written in the recipient's preferred language, and signing in
    leads to the pages in that language."""

    def send_mail(self, template_prefix, email, context):
        user = context.get("user")
        language = getattr(user, "preferred_language", None) or translation.get_language()
        with translation.override(language):
            return super().send_mail(template_prefix, email, context)

    def save_user(self, request, user, form, commit=True):
        # A person who signs up while browsing in Spanish gets Spanish email.
        language = translation.get_language()
        if language:
            user.preferred_language = language.split("-")[0]
        return super().save_user(request, user, form, commit=commit)

    def post_login(self, request, user, *, redirect_url, **kwargs):
        """Send the person to the page they were going to (their dashboard if none) in
        their preferred language, whatever language the login page was shown in: it is
        often only the browser's.

        A page asked for in the language the person picked with the switcher on this
        browser (the language cookie) keeps it: that choice is theirs too, and more
        recent than their profile's."""
        language = _chosen_language(getattr(user, "preferred_language", None))
        if language is None:
            return super().post_login(request, user, redirect_url=redirect_url, **kwargs)
        going_to = redirect_url() if callable(redirect_url) else redirect_url
        if going_to:
            asked_in = translation.get_language_from_path(urlsplit(going_to).path)
            picked_here = _chosen_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
            if asked_in is not None and asked_in == picked_here:
                return super().post_login(request, user, redirect_url=going_to, **kwargs)
            going_to = url_in_language(going_to, language)
        # The default page, and the "signed in" message, in that language too.
        with translation.override(language):
            response = super().post_login(request, user, redirect_url=going_to, **kwargs)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
