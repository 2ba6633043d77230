"""Search-as-you-type choices for the agency's forms and filters (instead of a dropdown of every row)."""
