"""observation domain."""
