"""The original's module backends.ReadThroughBackend: `from backends.ReadThroughBackend import ReadThroughBackend`."""

from backends._backends import ReadThroughBackend

__all__ = ["ReadThroughBackend"]
