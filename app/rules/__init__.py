"""Rules that several features share, each written once: the calendar (weeks, planned
days, public holidays, which states occupy a day) and who gets the agency's mail."""
