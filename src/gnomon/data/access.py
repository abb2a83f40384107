"""Who may use a dataset, on a server: the workspace's roles, narrowed per dataset.

A dataset with no access list is open to the workspace's roles (viewers read, editors
write). With a list it is restricted: only the users listed, and the workspace's admins, see
it at all; to anyone else it does not exist (``NotFound``, absent from listings). Writers
may add versions and edit its schema, readers only read. A list narrows, never widens: a
listed writer still needs the editor role for the routes that write.

Embedded mode has no users: the service does not restrict there (``DatasetService.restricted``
is set on the server's copy only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gnomon._types import Scope
from gnomon.checks import shown
from gnomon.errors import InvalidInput, NotFound, PermissionDenied

MAX_ACCESS_USERS = 1000  # names in one dataset's list
USER_NAME_LENGTH = 256


class DatasetRole(StrEnum):
    READER = "reader"
    WRITER = "writer"


@dataclass(frozen=True, slots=True)
class CallerScope(Scope):
    """A scope that also says whether the caller administers the workspace (the routes
    build it from the admitted caller). A plain ``Scope`` counts as no administrator."""

    admin: bool = False


def is_admin(scope: Scope) -> bool:
    return isinstance(scope, CallerScope) and scope.admin


def not_found(name: str) -> NotFound:
    # The very words of an unknown dataset: a restricted one must not reveal it exists.
    # Shortened: a name of any length can be asked for, and is not echoed back whole.
    return NotFound(f"dataset {shown(name)} not found", {"dataset": shown(name)})


def check_use(
    scope: Scope, name: str, listed: Mapping[str, DatasetRole], *, write: bool = False
) -> None:
    """Raise unless ``scope`` may read (or ``write``) dataset ``name`` with access list
    ``listed`` (empty: open to the workspace's roles).

    Raises:
        NotFound: the dataset is restricted and the caller is not listed.
        PermissionDenied: a listed reader asked to write.
    """
    if not listed or is_admin(scope):
        return
    role = listed.get(scope.principal)
    if role is None:
        raise not_found(name)
    if write and role is not DatasetRole.WRITER:
        raise PermissionDenied(
            f"user {scope.principal!r} may read dataset {name!r} but not change it"
        )


def may_change_access(scope: Scope, listed: Mapping[str, DatasetRole], created_by: str) -> bool:
    """Workspace admins, the listed writers, and (while it is open) the dataset's creator."""
    if is_admin(scope):
        return True
    if listed:
        return listed.get(scope.principal) is DatasetRole.WRITER
    return scope.principal == created_by


def checked_list(readers: list[str], writers: list[str]) -> dict[str, DatasetRole]:
    """The access list to store: each name once (a writer also listed as reader is a
    writer), names bounded.

    Raises:
        InvalidInput: an empty or over-long name, or too many names.
    """
    listed: dict[str, DatasetRole] = {}
    for names, role in ((readers, DatasetRole.READER), (writers, DatasetRole.WRITER)):
        for user in names:
            if not isinstance(user, str) or not user.strip() or len(user) > USER_NAME_LENGTH:
                raise InvalidInput(
                    f"a user name is 1 to {USER_NAME_LENGTH} characters, got {str(user)[:60]!r}"
                )
            if role is DatasetRole.WRITER or user not in listed:
                listed[user] = role
    if len(listed) > MAX_ACCESS_USERS:
        raise InvalidInput(f"a dataset lists at most {MAX_ACCESS_USERS} users")
    return listed


@dataclass(frozen=True, slots=True)
class DatasetAccess:
    """A dataset's access list; none listed: open to the workspace's roles."""

    dataset: str
    readers: tuple[str, ...]
    writers: tuple[str, ...]

    @property
    def restricted(self) -> bool:
        return bool(self.readers or self.writers)

    @classmethod
    def of(cls, name: str, listed: Mapping[str, DatasetRole]) -> DatasetAccess:
        def named(role: DatasetRole) -> tuple[str, ...]:
            return tuple(sorted(u for u, r in listed.items() if r is role))

        return cls(name, named(DatasetRole.READER), named(DatasetRole.WRITER))
