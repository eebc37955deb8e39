"""Fixtures for connector tests: an HTTP client on a fake clock, and loopback fakes with demo data."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from source.connectors.connector_support import TOKEN
from upswing.core.http import HttpClient, InMemoryBudgetStore
from upswing.fakes.apify import FakeApify
from upswing.fakes.timing import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def budgets() -> InMemoryBudgetStore:
    return InMemoryBudgetStore()


@pytest.fixture
def http(fake_time: FakeTime, budgets: InMemoryBudgetStore) -> Iterator[HttpClient]:
    client = HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, rng=random.Random(3), budgets=budgets,
                        page_limit=None)
    yield client
    client.close()


@pytest.fixture
def apify() -> Iterator[FakeApify]:
    fake = FakeApify(token=TOKEN)
    fake.start()
    yield fake
    fake.stop()
