# European Portuguese (pt_PT, as money is written): thousands grouped with a
# non-breaking space ("26 000,00 US$"), not with a point as in Brazil.
THOUSAND_SEPARATOR = "\xa0"
