"""Built-in connectors: importing this package registers each one (one subpackage per external service)."""
