"""Proposals: a customer contact proposes an appointment, the agency decides."""
