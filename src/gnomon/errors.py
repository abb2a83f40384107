"""The errors gnomon raises, one hierarchy for the SDK, the server and the CLI.

```
GnomonError
├── NotFound            404  no such object (or one the caller may not see)
├── AlreadyExists       409  creating an object whose name is taken
├── InvalidInput        422  a value breaks a rule (400 when the body is not JSON at all)
├── Conflict            409  the object's state forbids the change (a finished run, a fixed param)
├── Unauthenticated     401  no identity, or a bad one
├── PermissionDenied    403  the identity lacks the role
├── PayloadTooLarge     413  the body or artifact is over the configured limit
├── RateLimited         429  too many attempts (failed logins, bad tokens); retry later
├── Unavailable         503  a backend (database, object store) cannot be reached
└── UserCodeError       500  user code (a pipeline step, a predict) raised; keeps the original
```

Each class carries a stable ``code`` and an HTTP ``status``. The wire form is
``{"error": {"code", "message", "details"}}``; :func:`from_payload` turns it back into the same
class through a closed mapping, so no name from a payload is ever imported.
"""

from __future__ import annotations

from typing import Any, ClassVar

DOCS_URL = "docs/errors.md#"  # each code has an anchor there


class GnomonError(Exception):
    """Root of every error gnomon raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_payload(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    @property
    def docs_url(self) -> str:
        return DOCS_URL + self.code


class NotFound(GnomonError):
    code = "not_found"
    status = 404


class AlreadyExists(GnomonError):
    code = "already_exists"
    status = 409


class InvalidInput(GnomonError):
    code = "invalid_input"
    status = 422


class Conflict(GnomonError):
    code = "conflict"
    status = 409


class Unauthenticated(GnomonError):
    code = "unauthenticated"
    status = 401


class PermissionDenied(GnomonError):
    code = "permission_denied"
    status = 403


class PayloadTooLarge(GnomonError):
    code = "payload_too_large"
    status = 413


class RateLimited(GnomonError):
    """Too many attempts (failed logins, bad tokens); ``retry_after`` is the seconds to wait,
    which the server also sends as ``Retry-After``."""

    code = "rate_limited"
    status = 429

    @property
    def retry_after(self) -> int | None:
        value = self.details.get("retry_after")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Unavailable(GnomonError):
    code = "unavailable"
    status = 503


class UserCodeError(GnomonError):
    """User code raised; ``original`` keeps the exception so a platform bug is never blamed."""

    code = "user_code_error"
    status = 500

    def __init__(
        self,
        message: str,
        original: BaseException | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details)
        self.original = original


_BY_CODE: dict[str, type[GnomonError]] = {
    cls.code: cls
    for cls in (
        GnomonError,
        NotFound,
        AlreadyExists,
        InvalidInput,
        Conflict,
        Unauthenticated,
        PermissionDenied,
        PayloadTooLarge,
        RateLimited,
        Unavailable,
        UserCodeError,
    )
}


def from_payload(payload: dict[str, Any]) -> GnomonError:
    """Rebuild the error a server sent; unknown codes become the root class."""
    body = payload.get("error", {})
    cls = _BY_CODE.get(str(body.get("code")), GnomonError)
    return cls(str(body.get("message", "unknown error")), body.get("details") or {})


__all__ = [
    "AlreadyExists",
    "Conflict",
    "GnomonError",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "UserCodeError",
    "from_payload",
]
