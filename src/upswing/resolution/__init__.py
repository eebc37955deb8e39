"""Resolution: which lead an observation is about (deterministic keys, probabilistic matching, review)."""
