"""The original's module backends.FileSystemJsonBackend: `from backends.FileSystemJsonBackend import FileSystemJsonBackend`."""

from backends._backends import FileSystemJsonBackend

__all__ = ["FileSystemJsonBackend"]
