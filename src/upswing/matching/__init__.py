"""Matchmaking: how well each service of the catalog fits a lead (0–100, explained), ranked, recomputed on signals."""
