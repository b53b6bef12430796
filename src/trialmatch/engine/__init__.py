"""Evaluation: criteria files and rule trees, the per-patient engine, validation and data
warnings."""
