"""Staffing: promoters apply for jobs, are requested for appointments, confirm or decline."""
