"""lead domain."""
