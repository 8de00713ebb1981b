"""The console page."""

from layouts.console.page import register

__all__ = ["register"]
