# Spanish as Mexico, Central America and the Caribbean write it, as money (es_MX)
# and the financial-literacy content do: a decimal point and comma thousands
# ("26,000.50"). Django's own Spanish formats have the reverse ("26.000,50"),
# which put "2,5" in a calculator next to "USD 12.50".
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
