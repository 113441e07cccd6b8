"""Standardise, validate and quarantine source records (one module per field kind)."""
