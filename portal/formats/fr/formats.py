# French money (Babel's fr_FR) groups thousands with a narrow no-break space
# ("26 000,50 $US"); Django's French formats use a full one. Numbers next to
# money use the same.
THOUSAND_SEPARATOR = "\u202f"
