"""The original's module backends.TextCache: `from backends.TextCache import TextCache`."""

from backends._backends import TextCache

__all__ = ["TextCache"]
