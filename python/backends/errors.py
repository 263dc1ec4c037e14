"""The exceptions every store raises: one class per error code of the C++
library, all rooted at :class:`Error`, each also a subclass of the builtin
exception a Python program would catch for that kind of failure.

A missing key is never an error: ``load`` returns ``None``, ``delete``
returns ``False``. The message is the C++ message: the operation, the key and
the cause, never a secret.
"""


class Error(Exception):
    """Base of every error raised by a store. ``code`` is the C++ ErrorCode
    name (for example ``"InvalidArgument"``)."""

    code = ""


class InvalidArgumentError(Error, ValueError):
    """A bad key, URL, option or value (nothing was written)."""

    code = "InvalidArgument"


class NotFoundError(Error, FileNotFoundError):
    """A missing container: a bucket or a root folder. Never a missing key."""

    code = "NotFound"


class AlreadyExistsError(Error, FileExistsError):
    """A create-only write found the key present."""

    code = "AlreadyExists"


class PermissionDeniedError(Error, PermissionError):
    """The store refused the operation (EACCES, S3 403 AccessDenied)."""

    code = "PermissionDenied"


class UnauthenticatedError(Error, PermissionError):
    """Missing or wrong credentials (S3 InvalidAccessKeyId, bad signature)."""

    code = "Unauthenticated"


class FailedPreconditionError(Error, OSError):
    """The operation conflicts with the store's state: a key that would need a
    folder where a value is stored, a failed conditional write, a closed
    store."""

    code = "FailedPrecondition"


class UnavailableError(Error, ConnectionError):
    """A transient fault: network, HTTP 5xx, SlowDown. Safe to retry."""

    code = "Unavailable"


class DeadlineExceededError(Error, TimeoutError):
    """A timeout (including a stalled transfer). Safe to retry."""

    code = "DeadlineExceeded"


class DataLossError(Error, ValueError):
    """Stored bytes cannot be decoded (bad JSON, invalid UTF-8, a cache entry
    that is not an envelope). The stored bytes are left in place."""

    code = "DataLoss"


class UnimplementedError(Error, NotImplementedError):
    """The store cannot do this."""

    code = "Unimplemented"


class FilesystemError(Error, OSError):
    """A local filesystem failure (EIO, ENOSPC, EROFS, ...): the C++ kIOError."""

    code = "IOError"


class InternalError(Error, RuntimeError):
    """A bug in the library."""

    code = "Internal"


BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        UnauthenticatedError,
        FailedPreconditionError,
        UnavailableError,
        DeadlineExceededError,
        DataLossError,
        UnimplementedError,
        FilesystemError,
        InternalError,
    )
}
