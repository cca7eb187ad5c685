# Arabic as Babel's "ar" writes it, with Latin digits: a decimal point and comma
# thousands ("26,000.00 US$"). Django's own Arabic formats have the reverse and no
# date-time formats, which then fell back to the US order ("02/25/2027 7:21 ص").
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
# Dates as CLDR writes them ("25 فبراير 2027"), with no comma before the year.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y، g:i A"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
