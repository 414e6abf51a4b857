"""The one place that decides tenancy: which workspace a request acts in, and as whom.

Every API view (through :mod:`multica_site.views`) and every WebSocket consumer calls
:func:`resolve_workspace_context`. Order, as Multica's ``ResolveWorkspaceIDFromRequest``:
the workspace a token is bound to, then ``workspace_slug`` (query) / ``X-Workspace-Slug``,
then ``workspace_id`` (query) / ``X-Workspace-ID``. Missing → 400; unknown or not a member →
404 ``workspace not found``; wrong role → 403 ``insufficient permissions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multica_site.db import columns_of, models_from_rows, prepared_cursor
from multica_site.errors import NotFound, PermissionDenied, ValidationError
from workspaces.authentication import pending_user_id
from workspaces.models import Member, Role, Workspace
from workspaces.models import User as UserModel

if TYPE_CHECKING:
    from workspaces.authentication import Credential
    from workspaces.models import User

ANY_MEMBER: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})
ADMINS: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN})
OWNERS: frozenset[str] = frozenset({Role.OWNER})


@dataclass(frozen=True)
class Actor:
    """Who acts: ``member`` (a user), ``agent`` (task token), or ``system``."""

    type: str
    id: str

    @classmethod
    def system(cls) -> Actor:
        return cls(type="system", id="")


@dataclass(frozen=True)
class WorkspaceContext:
    workspace: Workspace
    user: User | None
    member: Member | None
    actor: Actor
    credential: Credential | None = None

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.workspace.id

    @property
    def role(self) -> str | None:
        return self.member.role if self.member else None

    @property
    def is_agent(self) -> bool:
        return self.actor.type == "agent"


@dataclass(frozen=True)
class WorkspaceIdentifiers:
    slug: str | None = None
    workspace_id: str | None = None


# Hook for later issues: (ctx-to-be) → Actor, e.g. a task token acting as its agent.
ActorResolver = Callable[[Workspace, "User", "Credential | None", Mapping[str, str]], Actor | None]
ACTOR_RESOLVERS: list[ActorResolver] = []


def identifiers_from(query: Mapping[str, Any], headers: Mapping[str, Any]) -> WorkspaceIdentifiers:
    """Read the workspace identifiers of a request in Multica's precedence (slug before id)."""
    slug = query.get("workspace_slug") or headers.get("X-Workspace-Slug") or None
    ws_id = query.get("workspace_id") or headers.get("X-Workspace-ID") or None
    return WorkspaceIdentifiers(slug=slug, workspace_id=ws_id)


def _parse_uuid(value: str, message: str = "invalid workspace_id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationError(message, code="invalid_workspace_id") from exc


def _lookup(identifiers: WorkspaceIdentifiers) -> Workspace:
    if identifiers.slug:
        ws = Workspace.objects.filter(slug=identifiers.slug.strip().lower()).first()
    elif identifiers.workspace_id:
        ws = Workspace.objects.filter(pk=_parse_uuid(identifiers.workspace_id)).first()
    else:
        raise ValidationError(
            "workspace_id or workspace_slug is required", code="workspace_required"
        )
    if ws is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    return ws


_M_ATTS, _M_COLS = columns_of(Member, "m")
_W_ATTS, _W_COLS = columns_of(Workspace, "w")
_U_ATTS, _U_COLS = columns_of(UserModel, "u")
_PRINCIPAL_SQL = f"""
SELECT {_M_COLS}, {_W_COLS}, {_U_COLS}
FROM member m JOIN workspace w ON w.id = m.workspace_id JOIN "user" u ON u.id = m.user_id
WHERE m.user_id = %s AND u.is_active AND {{}} = %s
"""  # noqa: S608 - the column lists come from the models, not from input
_PRINCIPAL_BY_ID = _PRINCIPAL_SQL.format("m.workspace_id")
_PRINCIPAL_BY_SLUG = _PRINCIPAL_SQL.format("w.slug")


def _principal(user_id: uuid.UUID, identifiers: WorkspaceIdentifiers) -> Member | None:
    """The membership of a JWT's user, with its workspace and the (active) user, in one
    prepared statement: the query every workspace request of a browser or CLI starts with."""
    if identifiers.slug:
        sql, key = _PRINCIPAL_BY_SLUG, identifiers.slug.strip().lower()
    elif identifiers.workspace_id:
        sql, key = _PRINCIPAL_BY_ID, _parse_uuid(identifiers.workspace_id)
    else:
        raise ValidationError(
            "workspace_id or workspace_slug is required", code="workspace_required"
        )
    with prepared_cursor() as cursor:
        cursor.execute(sql, [user_id, key])
        row = cursor.fetchone()
    if row is None:
        return None
    m, w = len(_M_ATTS), len(_W_ATTS)
    member = models_from_rows(Member, _M_ATTS, [row[:m]])[0]
    member.workspace = models_from_rows(Workspace, _W_ATTS, [row[m : m + w]])[0]
    member.user = models_from_rows(UserModel, _U_ATTS, [row[m + w :]])[0]
    return member


def _membership(user: User, identifiers: WorkspaceIdentifiers) -> Member | None:
    pending = pending_user_id(user)
    if pending is not None:
        # A JWT whose user is not read yet: read it with the membership row, in one query.
        return _principal(pending, identifiers)
    qs = Member.objects.select_related("workspace").filter(user=user)
    if identifiers.slug:
        return qs.filter(workspace__slug=identifiers.slug.strip().lower()).first()
    if identifiers.workspace_id:
        return qs.filter(workspace_id=_parse_uuid(identifiers.workspace_id)).first()
    raise ValidationError("workspace_id or workspace_slug is required", code="workspace_required")


def resolve_workspace_context(
    *,
    user: User | None,
    credential: Credential | None,
    identifiers: WorkspaceIdentifiers,
    headers: Mapping[str, str] | None = None,
    roles: Iterable[str] = ANY_MEMBER,
) -> WorkspaceContext:
    """Decide workspace, member and actor, or raise the domain error the spec names."""
    if user is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    bound = credential.workspace_id if credential is not None else None
    if bound is not None:
        if identifiers.slug or identifiers.workspace_id:
            requested = _lookup(identifiers)
            if requested.id != bound:
                raise PermissionDenied(
                    "task token is bound to a different workspace", code="workspace_mismatch"
                )
        workspace = Workspace.objects.filter(pk=bound).first()
        if workspace is None:
            raise NotFound("workspace not found", code="workspace_not_found")
        member = Member.objects.filter(workspace=workspace, user=user).first()
    else:
        # One query: the membership row with its workspace. An unknown workspace and one the
        # user is not a member of are the same 404.
        member = _membership(user, identifiers)
        workspace = member.workspace if member is not None else None
        if pending_user_id(user) is not None:
            if member is None:
                user.load()  # type: ignore[attr-defined]  # deleted or inactive → 401, not 404
            else:
                user.settle(member.user)  # type: ignore[attr-defined]
                user = member.user
    if member is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    actor: Actor | None = None
    for resolver in ACTOR_RESOLVERS:
        actor = resolver(workspace, user, credential, headers or {})
        if actor is not None:
            break
    ctx = WorkspaceContext(
        workspace=workspace,
        user=user,
        member=member,
        actor=actor or Actor(type="member", id=str(user.pk)),
        credential=credential,
    )
    require_role(ctx, roles)
    return ctx


def require_role(ctx: WorkspaceContext, roles: Iterable[str]) -> None:
    roles = frozenset(roles)
    if roles == ANY_MEMBER:
        return
    if ctx.role not in roles:
        raise PermissionDenied("insufficient permissions")


def system_context(workspace: Workspace) -> WorkspaceContext:
    """A context for Celery tasks and commands acting as the system in ``workspace``."""
    return WorkspaceContext(workspace=workspace, user=None, member=None, actor=Actor.system())
