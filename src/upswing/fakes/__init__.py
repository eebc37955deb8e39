"""Protocol-faithful fake servers on loopback, for tests and benchmarks (never for production use).

Each fake is built from ``shared/reference/external-apis.md``, runs in a thread on 127.0.0.1 with a random
port, logs every request and takes injected faults per route. ``with FakeApify() as base_url: ...``
"""
