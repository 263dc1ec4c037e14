"""The original's module backends.VolatileBackend: `from backends.VolatileBackend import VolatileBackend`."""

from backends._backends import VolatileBackend

__all__ = ["VolatileBackend"]
