"""Read-only database work of the server callbacks, on threads of our own.

Flask runs inside Daphne through asgiref's WsgiToAsgi, whose thread choice follows asgiref's
context variables; the ORM refuses to run where an event loop is running. These threads have none.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="layouts-db")


def _fresh(fn: Callable[..., T], *args) -> T:
    from django.db import close_old_connections

    close_old_connections()
    return fn(*args)


def run(fn: Callable[..., T], *args) -> T:
    """fn(*args) on a database thread of the layouts; its result or its exception."""
    return _pool.submit(_fresh, fn, *args).result()
