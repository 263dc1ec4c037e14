"""backends.open(url): the store a URL names, as the command-line tool reads
URLs (docs/cli.md)."""

from typing import Any
from urllib.parse import parse_qsl

from backends import _backends
from backends.errors import InvalidArgumentError

_TOOL_PARAMS = ("format", "cache", "timeout")


def open(url: str) -> Any:  # noqa: A001 - the module's own open()
    """Opens the store ``url`` names: ``memory://``, ``file:///abs/dir``,
    ``file://rel/dir``, ``s3://bucket/prefix?region=..&endpoint=..`` and
    every other URL the C++ library and the ``backends`` tool take, with the
    tool's parameters:

    * ``format=raw|text|json``: the class returned (``FileSystemRawBackend``,
      ``FileSystemTextBackend``, ``FileSystemJsonBackend``; ``S3RawBackend``,
      ``S3TextBackend``, ``S3JsonBackend``; ``VolatileRawBackend``,
      ``VolatileTextBackend``, ``VolatileBackend``). Default raw.
    * ``cache=json|text`` and ``timeout=N``: a ``JsonCache`` or ``TextCache``
      over that store, entries living N seconds (default 300).

    Raises InvalidArgumentError for a bad URL or parameter, and the store's
    own errors when opening it.
    """
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    kept = [part for part in query.split("&")
            if part and part.split("=", 1)[0] not in _TOOL_PARAMS]
    store_url = base + ("?" + "&".join(kept) if kept else "")
    value_format = params.get("format", "raw")
    if value_format not in ("raw", "text", "json"):
        raise InvalidArgumentError(
            f'unknown format "{value_format}" (known: raw, text, json)')
    cache = params.get("cache", "")
    if cache not in ("", "json", "text"):
        raise InvalidArgumentError(
            f'unknown cache "{cache}" (known: json, text)')
    if cache and "format" in params and value_format != cache:
        raise InvalidArgumentError(
            f"format={value_format} does not fit cache={cache}: its values "
            "are " + ("JSON" if cache == "json" else "UTF-8 text"))
    timeout = 300
    if "timeout" in params:
        if not cache:
            raise InvalidArgumentError(
                "timeout= needs cache=json or cache=text")
        if not params["timeout"].isdigit():
            raise InvalidArgumentError(
                f'timeout "{params["timeout"]}" is not a number of '
                "seconds >= 0")
        timeout = int(params["timeout"])
    return _backends._open(store_url, value_format, cache, timeout)
