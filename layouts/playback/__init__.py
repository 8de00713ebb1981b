"""The playback page."""

from layouts.playback.page import register

__all__ = ["register"]
