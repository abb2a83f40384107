"""Identity and audit wire models, shared by the routes and the HTTP client."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from gnomon.auth.entities import ApiToken, AuditEvent, Membership, Role, User, Workspace
from gnomon.wire import Text, Wire, WireBool, WireInt


class Login(Wire):
    username: Text
    password: Text


class IssuedToken(Wire):
    """A token's secret, shown this once."""

    token: str
    id: str
    name: str
    expires_time: int | None = None


class UserOut(Wire):
    id: str
    name: str
    is_admin: bool
    disabled: bool
    created_time: int

    def entity(self) -> User:
        return User(**self.model_dump())


class CreateUser(Wire):
    name: Text
    password: Text
    is_admin: WireBool = False


class SetPassword(Wire):
    password: Text


class TokenOut(Wire):
    id: str
    user_id: str
    name: str
    prefix: str
    created_time: int
    workspace_id: str | None = None
    role: Role | None = None
    expires_time: int | None = None
    revoked_time: int | None = None
    last_used_time: int | None = None

    def entity(self) -> ApiToken:
        return ApiToken(**self.model_dump())


class CreateToken(Wire):
    name: Text
    workspace: Text | None = None
    role: Role | None = None
    expires_in_days: Annotated[WireInt, Field(ge=1, le=3650)] | None = None


class WorkspaceOut(Wire):
    id: str
    name: str
    created_time: int

    def entity(self) -> Workspace:
        return Workspace(**self.model_dump())


class CreateWorkspace(Wire):
    name: Text


class MembershipOut(Wire):
    workspace_id: str
    user_id: str
    user_name: str
    role: Role

    def entity(self) -> Membership:
        return Membership(**self.model_dump())


class AddMember(Wire):
    user: Text
    role: Role


class SetRole(Wire):
    role: Role


class WhoAmI(Wire):
    name: str
    is_admin: bool
    token_workspace_id: str | None = None
    token_role: Role | None = None


class AuditEventOut(Wire):
    id: int
    time: int
    actor: str
    workspace_id: str | None = None
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any] = Field(default_factory=dict)
    address: str | None = None

    def entity(self) -> AuditEvent:
        return AuditEvent(**self.model_dump())
