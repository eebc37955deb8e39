"""source domain."""
