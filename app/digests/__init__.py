"""Digests: the agency's daily list of pending proposals and the customers' weekly mail."""
