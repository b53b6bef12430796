"""Batch screening: reading patient CSVs, the columnar plan, both engines, templates."""
