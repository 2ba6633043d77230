"""The audit trail: who created, changed or deleted what, and every login."""
