"""Users, credentials, workspaces, members and invitations (spec §1–2)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        email = self.normalize_email(email).strip().lower()
        if not email:
            raise ValueError("email is required")
        extra.setdefault("name", email.split("@", 1)[0])
        user = self.model(email=email, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    LANGUAGES: ClassVar[tuple[str, ...]] = ("en", "zh-Hans", "ko", "ja")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=255)
    avatar_url = models.TextField(null=True, blank=True)
    language = models.CharField(max_length=16, null=True, blank=True)
    timezone = models.CharField(max_length=64, null=True, blank=True)
    onboarded_at = models.DateTimeField(null=True, blank=True)
    onboarding_questionnaire = models.JSONField(default=dict, blank=True)
    starter_content_state = models.CharField(max_length=32, null=True, blank=True)
    profile_description = models.TextField(blank=True, default="")
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        db_table = "user"

    def __str__(self) -> str:
        return self.email


class VerificationCode(models.Model):
    """A login code. Only a keyed HMAC of the code is stored; attempts are counted in SQL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(db_index=True)
    code_hmac = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "verification_code"
        indexes: ClassVar = [
            models.Index(fields=["email", "-created_at"], name="vcode_email_created")
        ]

    def __str__(self) -> str:
        return f"code for {self.email}"


class PersonalAccessToken(models.Model):
    """``mul_`` + 40 hex. Stored as the SHA-256 of the whole token; the first 12 chars shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=255)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "personal_access_token"

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=100, unique=True)
    description = models.TextField(null=True, blank=True)
    context = models.TextField(null=True, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    repos = models.JSONField(default=list, blank=True)
    issue_prefix = models.CharField(max_length=10, default="WS")
    avatar_url = models.TextField(null=True, blank=True)
    # Last issue number handed out; bumped under a row lock by the issue service.
    issue_counter = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "workspace"

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Member(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "member"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "user"], name="member_workspace_user_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.workspace_id} ({self.role})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sent_invitations")
    invitee_email = models.EmailField()
    invitee_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "workspace_invitation"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "invitee_email"],
                condition=Q(status="pending"),
                name="invitation_pending_uniq",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["invitee_email", "status"], name="invitation_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee_email} → {self.workspace_id} ({self.status})"


class WorkspaceScoped(models.Model):
    """Abstract base for every tenant row: an indexed workspace foreign key."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class WorkspaceEventSeq(models.Model):
    """The last event sequence number handed out in a workspace (strictly increasing).

    Kept apart from the workspace row so that allocating a number never waits behind a
    transaction that holds the workspace row lock (issue numbering does).
    """

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seq = models.BigIntegerField(default=0)

    class Meta:
        db_table = "workspace_event_seq"

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.seq}"
