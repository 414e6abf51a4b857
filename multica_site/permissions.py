"""Deny by default. A view opts in by declaring a scope: public, user, or workspace."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class DenyAll(BasePermission):
    """The default permission: a view that declares nothing is reachable by no one."""

    def has_permission(self, request, view) -> bool:
        return False


class Public(BasePermission):
    """Explicitly public: login endpoints, health, the schema."""

    def has_permission(self, request, view) -> bool:
        return True


class IsAuthenticatedUser(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user is not None and getattr(request.user, "is_authenticated", False)
