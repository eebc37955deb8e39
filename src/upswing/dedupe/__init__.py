"""Duplicate leads: find pairs that are one borrower (``model``), propose, apply and undo merges (``service``)."""
