"""The command-hall big screen at /wall/."""

from layouts.wall.page import register

__all__ = ["register"]
