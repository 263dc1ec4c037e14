"""The original's module backends.S3RawBackend: `from backends.S3RawBackend import S3RawBackend`."""

from backends._backends import S3RawBackend

__all__ = ["S3RawBackend"]
