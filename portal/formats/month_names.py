"""Month names for the portal's own catalogs, which take precedence over
Django's: European Portuguese writes months in lower case ("25 de fevereiro de
2027"), as CLDR and the 1990 spelling agreement do, where Django's Portuguese
catalog capitalises them. Every language gets CLDR's names, so dates agree
with what Babel writes next to them. Marked here for makemessages; nothing
imports this module."""

from django.utils.translation import gettext_noop

MONTHS = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)
