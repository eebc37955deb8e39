"""Casework: a specialist working a lead's signals — acting through the contact guard, recording outcomes that
feed the contact ledger and compliance flags, and the lead's whole timeline. It sits above the signal and
compliance domains and ties them together in one transaction.
"""
