"""Personal-data requests: export everything about a person, or anonymise them."""
