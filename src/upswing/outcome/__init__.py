"""Outcomes of the team's work per lead: payments, promises to pay, arrangements, disputes, complaints, closures."""
