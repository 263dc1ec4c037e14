"""The original's module backends.JsonCache: `from backends.JsonCache import JsonCache`."""

from backends._backends import JsonCache

__all__ = ["JsonCache"]
