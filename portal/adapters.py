from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    """Account emails are written in the recipient's preferred language."""

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
