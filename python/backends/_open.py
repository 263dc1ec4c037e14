"""backends.open(url): the store a URL names, read by the C++ library's
opener (backends::OpenStore), as the command-line tool reads URLs
(docs/cli.md)."""

from typing import Any

from backends import _backends


def open(url: str) -> Any:  # noqa: A001 - the module's own open()
    """Opens the store ``url`` names: ``memory://``, ``file:///abs/dir``,
    ``file://rel/dir``, ``s3://bucket/prefix?region=..&endpoint=..``,
    ``redis://[user[:password]@]host[:port][/db][?prefix=P]`` (``cluster=1``:
    a Redis Cluster) and
    every other URL the C++ library and the ``backends`` tool take, with the
    tool's parameters:

    * ``format=raw|text|json``: the class returned (``FileSystemRawBackend``,
      ``FileSystemTextBackend``, ``FileSystemJsonBackend``; ``S3RawBackend``,
      ``S3TextBackend``, ``S3JsonBackend``; ``VolatileRawBackend``,
      ``VolatileTextBackend``, ``VolatileBackend``; ``RedisRawBackend``, ...).
      Default raw.
    * ``cache=json|text`` and ``timeout=N``: a ``JsonCache`` or ``TextCache``
      over that store, entries living N seconds (default 300); on Redis,
      Redis itself expires them.

    A store's ``url()`` reopens it: ``backends.open(cache.url())``.

    Raises InvalidArgumentError for a bad URL or parameter, and the store's
    own errors when opening it.
    """
    return _backends._open(url)
