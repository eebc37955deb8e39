"""Built-in connectors, one subpackage per external service (``source.registry`` lists them)."""
