"""The domain tables that every feature reads: customers and stores, projects and their
appointments, promoters. One package so that no feature owns another's schema.

The whole schema (for Alembic and FAB) is gathered in :mod:`app.schema`.
"""
