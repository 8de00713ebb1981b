"""The demo city: an invented district with its people, devices and a week of cases, and a live flow.

The seeding functions are loaded on first use, so that the Django-free parts (geography, basemap)
can run without settings, e.g. `python -m dispatchd.demo.basemap`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dispatchd.demo.seeding import seed_demo_city, seed_if_empty

__all__ = ["seed_demo_city", "seed_if_empty"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dispatchd.demo import seeding

        return getattr(seeding, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
