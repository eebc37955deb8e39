"""The pipeline: the one place where work crosses domains in the direction data flows.

Source items are stored as observations, linked to leads (resolution), diffed and classified (detection) and
merged into signals: ``profiles`` and ``texts`` do that for profile exports and texts, ``monitoring`` runs the
sources on their schedules and feeds what they fetch through the same two paths, and ``review`` applies a
person's decision on an uncertain link. Domains below never call up into this package.
"""
