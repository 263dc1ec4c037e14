"""The original's module backends.S3JsonBackend: `from backends.S3JsonBackend import S3JsonBackend`."""

from backends._backends import S3JsonBackend

__all__ = ["S3JsonBackend"]
