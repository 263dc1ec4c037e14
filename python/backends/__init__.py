"""backends: one dict-like interface over many stores (memory, a folder,
SQLite, S3, Redis), with expiring caches on top: the original library's
classes, on C++ stores.

    from backends import FileSystemJsonBackend
    store = FileSystemJsonBackend("/var/lib/app")
    store.dump("users/42", {"name": "Ada"})   # True
    store.load("users/42")                    # {'name': 'Ada'}
    store.load("users/0")                     # None: missing is not an error

Every failure raises a subclass of backends.Error (see backends.errors).
"""

import importlib as _importlib
from collections.abc import MutableMapping as _MutableMapping

# One submodule per original class, as the original's files are. Imported
# first, because importing a submodule sets the package attribute of its
# name to the module: the class imports below then put the classes back.
for _name in ("VolatileBackend", "FileSystemTextBackend",
              "FileSystemJsonBackend", "S3JsonBackend", "S3RawBackend",
              "JsonCache", "TextCache", "ReadThroughBackend"):
    _importlib.import_module("backends." + _name)

from backends._backends import (  # noqa: E402
    __version__,
    Backend,
    Cache,
    FileSystemBackend,
    FileSystemJsonBackend,
    FileSystemRawBackend,
    FileSystemTextBackend,
    JsonCache,
    MemoryBackend,
    ReadThroughBackend,
    RedisBackend,
    RedisJsonBackend,
    RedisRawBackend,
    RedisTextBackend,
    S3Backend,
    S3JsonBackend,
    S3RawBackend,
    S3TextBackend,
    SqliteBackend,
    SqliteJsonBackend,
    SqliteRawBackend,
    SqliteTextBackend,
    TextCache,
    VolatileBackend,
    VolatileRawBackend,
    VolatileTextBackend,
)
from backends._open import open  # noqa: E402
from backends.errors import (  # noqa: E402
    AlreadyExistsError,
    DataLossError,
    DeadlineExceededError,
    Error,
    FailedPreconditionError,
    FilesystemError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)

# The rest of the MutableMapping protocol (pop, popitem, setdefault, update,
# values) comes from collections.abc itself, on top of the C++ methods.
for _name in ("pop", "popitem", "setdefault", "update", "values"):
    setattr(Backend, _name, getattr(_MutableMapping, _name))
_MutableMapping.register(Backend)
del _name, _importlib

__all__ = [
    "AlreadyExistsError",
    "Backend",
    "Cache",
    "DataLossError",
    "DeadlineExceededError",
    "Error",
    "FailedPreconditionError",
    "FileSystemBackend",
    "FileSystemJsonBackend",
    "FileSystemRawBackend",
    "SqliteBackend",
    "SqliteJsonBackend",
    "SqliteRawBackend",
    "SqliteTextBackend",
    "FileSystemTextBackend",
    "FilesystemError",
    "InternalError",
    "InvalidArgumentError",
    "JsonCache",
    "MemoryBackend",
    "NotFoundError",
    "PermissionDeniedError",
    "ReadThroughBackend",
    "RedisBackend",
    "RedisJsonBackend",
    "RedisRawBackend",
    "RedisTextBackend",
    "S3Backend",
    "S3JsonBackend",
    "S3RawBackend",
    "S3TextBackend",
    "TextCache",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "VolatileBackend",
    "VolatileRawBackend",
    "VolatileTextBackend",
    "open",
]
