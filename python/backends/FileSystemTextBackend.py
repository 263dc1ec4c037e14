"""The original's module backends.FileSystemTextBackend: `from backends.FileSystemTextBackend import FileSystemTextBackend`."""

from backends._backends import FileSystemTextBackend

__all__ = ["FileSystemTextBackend"]
