"""Fixtures of the dispatch-domain tests."""

from tests.dispatchd.helpers import clock, events  # noqa: F401 - fixtures
