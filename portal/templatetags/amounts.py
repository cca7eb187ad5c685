from django import template

from portal.amounts import amount_or_blank

register = template.Library()
register.filter("amount", amount_or_blank)
