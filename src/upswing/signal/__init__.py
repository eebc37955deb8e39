"""signal domain."""
