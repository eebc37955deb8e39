"""Randomised holdout experiments: assignment, control suppression, analysis and reports."""
