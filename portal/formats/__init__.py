"""Django's number and date formats where they disagree with what the portal shows
elsewhere: money is written by Babel with the CLDR locales of
`finance.money.DISPLAY_LOCALES`, and the numbers and dates next to it must use the same
marks. Only what differs is set here; Django's own formats fill in the rest."""
