"""Invitations (spec §2): invite, rate limits, list, revoke, the invitee's list, accept, decline."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from multica_site.events import Event, add_sink, remove_sink
from workspaces.models import Invitation, InvitationStatus, Member, Role, User

pytestmark = pytest.mark.django_db

INVITATION_KEYS = {
    "id", "workspace_id", "inviter_id", "invitee_email", "invitee_user_id", "role", "status",
    "created_at", "updated_at", "expires_at",
}  # fmt: skip
MEMBER_KEYS = {"id", "workspace_id", "user_id", "role", "created_at", "name", "email", "avatar_url"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORBIDDEN = {"error": "insufficient permissions", "code": "forbidden"}
NOT_YOURS = {"error": "invitation does not belong to you", "code": "invitation_not_yours"}
INVITATION_NOT_FOUND = {"error": "invitation not found", "code": "invitation_not_found"}
NOT_PENDING = {"error": "invitation is not pending", "code": "invitation_not_pending"}


@pytest.fixture
def events():
    captured: list[Event] = []
    sink = captured.append
    add_sink(sink)
    yield captured
    remove_sink(sink)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(): …`` runs the on-commit callbacks (events, e-mail) of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def invite_url(ws) -> str:
    return f"/api/workspaces/{ws.workspace.id}/members"


def ws_invitations_url(ws, invitation=None) -> str:
    base = f"/api/workspaces/{ws.workspace.id}/invitations"
    return f"{base}/{invitation.id}" if invitation is not None else base


def invite(api, ws, inviter, email, role=None):
    body = {"email": email} if role is None else {"email": email, "role": role}
    return api.as_user(inviter).post(invite_url(ws), json=body)


def make_invitation(ws, email, *, inviter=None, status=InvitationStatus.PENDING, **extra):
    now = timezone.now()
    extra.setdefault("expires_at", now + timedelta(days=7))
    return Invitation.objects.create(
        workspace=ws.workspace,
        inviter=inviter or ws.owner,
        invitee_email=email,
        status=status,
        **extra,
    )


def age(queryset, delta: timedelta) -> None:
    queryset.update(created_at=timezone.now() - delta)


# --- invite -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_invite_by_email(api, ws, role):
    inviter = getattr(ws, role)
    resp = invite(api, ws, inviter, "  New.Person@Example.COM ")
    body = resp.want(201).json()
    assert set(body) == INVITATION_KEYS
    row = Invitation.objects.get()
    assert body["id"] == str(row.id)
    assert body["workspace_id"] == str(ws.workspace.id)
    assert body["inviter_id"] == str(inviter.id)
    assert body["invitee_email"] == "new.person@example.com"
    assert body["invitee_user_id"] is None
    assert body["role"] == "member"
    assert body["status"] == "pending"
    for key in ("created_at", "updated_at", "expires_at"):
        assert TIME_RE.match(body[key])
    assert row.expires_at - row.created_at == timedelta(days=7)
    # an invitation, not a membership
    assert not Member.objects.filter(workspace=ws.workspace, user__email=row.invitee_email).exists()


def test_invite_links_an_existing_account_and_keeps_the_role(api, ws, make_user):
    invitee = make_user("bob@example.com")
    body = invite(api, ws, ws.owner, "bob@example.com", role="admin").want(201).json()
    assert body["invitee_user_id"] == str(invitee.id)
    assert body["role"] == "admin"


def test_member_cannot_invite(api, ws):
    assert invite(api, ws, ws.member, "x@example.com").want(403).json() == FORBIDDEN
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["owner", "  owner "])
def test_cannot_invite_as_owner(api, ws, role):
    resp = invite(api, ws, ws.owner, "x@example.com", role=role)
    assert resp.want(400).json()["error"] == "cannot invite as owner"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "email is required"),
        ({"email": "   "}, "email is required"),
        ({"email": "not-an-email"}, "invalid email"),
        ({"email": "x@example.com", "role": "boss"}, "invalid member role"),
        ({"email": 5}, "invalid request body"),
    ],
)
def test_invite_validation(api, ws, payload, message):
    resp = api.as_user(ws.owner).post(invite_url(ws), json=payload)
    assert resp.want(400).json()["error"] == message
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("email", ["member@example.com", "MEMBER@example.com", "owner@example.com"])
def test_inviting_a_member_is_409(api, ws, email):
    resp = invite(api, ws, ws.admin, email)
    assert resp.want(409).json() == {"error": "user is already a member", "code": "already_member"}
    assert not Invitation.objects.exists()


def test_a_second_pending_invitation_is_409(api, ws):
    invite(api, ws, ws.owner, "new@example.com").want(201)
    resp = invite(api, ws, ws.admin, "NEW@example.com")
    assert resp.want(409).json() == {
        "error": "invitation already pending for this email",
        "code": "invitation_already_pending",
    }
    assert Invitation.objects.count() == 1


def test_a_stale_pending_invitation_is_expired_and_replaced(api, ws):
    stale = make_invitation(ws, "new@example.com", expires_at=timezone.now() - timedelta(hours=1))
    body = invite(api, ws, ws.owner, "new@example.com").want(201).json()
    stale.refresh_from_db()
    assert stale.status == InvitationStatus.EXPIRED
    assert body["id"] != str(stale.id)


def test_the_same_email_may_be_invited_to_another_workspace(api, ws, other_ws):
    invite(api, ws, ws.owner, "new@example.com").want(201)
    invite(api, other_ws, other_ws.owner, "new@example.com").want(201)


def test_invite_emails_the_invitee(api, ws, commit, settings):
    settings.FRONTEND_ORIGIN = "https://app.example.com"
    with commit():
        body = invite(api, ws, ws.owner, "new@example.com").want(201).json()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert message.subject == "Owner invited you to Acme on Multica"
    assert f"https://app.example.com/invite/{body['id']}" in message.body
    html, _ = message.alternatives[0]
    assert f"https://app.example.com/invite/{body['id']}" in html


def test_invite_email_escapes_names(api, ws, commit):
    ws.workspace.name = "<b>Acme</b>\r\nBcc: x"
    ws.workspace.save()
    with commit():
        invite(api, ws, ws.owner, "new@example.com").want(201)
    message = mail.outbox[0]
    assert "\n" not in message.subject
    assert "<b>Acme</b>" not in message.alternatives[0][0]


def test_invite_publishes_invitation_created_to_the_invitee(api, ws, make_user, events, commit):
    invitee = make_user("bob@example.com")
    with commit():
        body = invite(api, ws, ws.owner, "bob@example.com").want(201).json()
    assert [e.type for e in events] == ["invitation:created"]
    event = events[0]
    assert event.payload == {"invitation": body, "workspace_name": "Acme"}
    assert event.user_ids == (str(invitee.id),)
    assert event.workspace_id is None  # personal event: the invitee's room only
    assert (event.actor_type, event.actor_id) == ("member", str(ws.owner.id))


def test_invitation_created_without_an_account_reaches_nobody(api, ws, events, commit):
    with commit():
        invite(api, ws, ws.owner, "nobody@example.com").want(201)
    assert [e.type for e in events] == ["invitation:created"]
    assert events[0].user_ids == ()


def test_failed_invite_sends_nothing(api, ws, events, commit):
    with commit():
        invite(api, ws, ws.owner, "member@example.com").want(409)
        invite(api, ws, ws.member, "x@example.com").want(403)
    assert events == []
    assert mail.outbox == []


# --- rate limits ------------------------------------------------------------------------------


def assert_rate_limited(resp, low: int, high: int) -> None:
    body = resp.want(429).json()
    assert body["error"] == "too many invitation requests"
    assert body["code"] == "invitation_rate_limited"
    retry = int(resp.headers["Retry-After"])
    assert low <= retry <= high
    assert body["retry_after_seconds"] == retry
    assert resp.headers["Cache-Control"] == "no-store"


def test_inviter_limit_is_10_per_10_minutes(api, ws, events, commit):
    for i in range(10):
        make_invitation(ws, f"r{i}@example.com", inviter=ws.admin)
    age(Invitation.objects.all(), timedelta(minutes=4))
    with commit():
        resp = invite(api, ws, ws.admin, "one-more@example.com")
    assert_rate_limited(resp, 6 * 60 - 5, 6 * 60 + 1)
    assert Invitation.objects.count() == 10
    assert events == []
    assert mail.outbox == []
    # another inviter of the same workspace has their own budget
    invite(api, ws, ws.owner, "other@example.com").want(201)


def test_inviter_limit_counts_across_workspaces_and_frees_up(api, ws, other_ws):
    Member.objects.create(workspace=other_ws.workspace, user=ws.admin, role=Role.ADMIN)
    for i in range(10):
        make_invitation(other_ws, f"r{i}@example.com", inviter=ws.admin)
    invite(api, ws, ws.admin, "x@example.com").want(429)
    age(Invitation.objects.all(), timedelta(minutes=11))
    invite(api, ws, ws.admin, "x@example.com").want(201)


def test_inviter_limit_counts_every_status(api, ws):
    for i, status in enumerate(
        [InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.EXPIRED] * 4
    ):
        make_invitation(ws, f"r{i}@example.com", inviter=ws.admin, status=status)
    invite(api, ws, ws.admin, "x@example.com").want(429)


def test_workspace_limit_is_50_per_day(api, ws, make_user):
    inviters = [make_user() for _ in range(10)]
    for i in range(50):
        make_invitation(ws, f"r{i}@example.com", inviter=inviters[i % 10])
    age(Invitation.objects.all(), timedelta(minutes=30))
    resp = invite(api, ws, ws.owner, "x@example.com")
    assert_rate_limited(resp, 23 * 3600 + 29 * 60, 23 * 3600 + 30 * 60 + 1)
    age(Invitation.objects.all(), timedelta(hours=24, minutes=1))
    invite(api, ws, ws.owner, "x@example.com").want(201)


def test_recipient_limit_is_6_per_day_across_workspaces(api, ws, make_workspace, make_user):
    for i in range(6):
        other = make_workspace(slug=f"sender-{i}")
        owner = Member.objects.get(workspace=other).user
        Invitation.objects.create(
            workspace=other,
            inviter=owner,
            invitee_email="target@example.com",
            expires_at=timezone.now() + timedelta(days=7),
        )
    Invitation.objects.filter(workspace__slug="sender-0").update(
        created_at=timezone.now() - timedelta(hours=20)
    )
    resp = invite(api, ws, ws.owner, "Target@Example.com")
    assert_rate_limited(resp, 4 * 3600 - 5, 4 * 3600 + 1)
    age(Invitation.objects.filter(workspace__slug="sender-0"), timedelta(hours=25))
    invite(api, ws, ws.owner, "target@example.com").want(201)


def test_retry_after_is_the_longest_of_the_denied_gates(api, ws):
    for i in range(10):
        make_invitation(ws, "target@example.com" if i < 6 else f"r{i}@example.com",
                        inviter=ws.owner, status=InvitationStatus.DECLINED)  # fmt: skip
    age(Invitation.objects.all(), timedelta(minutes=5))
    resp = invite(api, ws, ws.owner, "target@example.com")
    # inviter gate frees in ~5 min, recipient gate in ~23 h 55 min
    assert_rate_limited(resp, 23 * 3600 + 54 * 60, 23 * 3600 + 55 * 60 + 1)


# --- the workspace's pending invitations ------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_any_member_lists_pending_invitations_newest_first(api, ws, role):
    old = make_invitation(ws, "old@example.com", inviter=ws.admin)
    age(Invitation.objects.filter(pk=old.pk), timedelta(hours=1))
    new = make_invitation(ws, "new@example.com")
    make_invitation(ws, "gone@example.com", expires_at=timezone.now() - timedelta(seconds=1))
    make_invitation(ws, "no@example.com", status=InvitationStatus.DECLINED)
    make_invitation(ws, "yes@example.com", status=InvitationStatus.ACCEPTED)
    body = api.as_user(getattr(ws, role)).get(ws_invitations_url(ws)).want(200).json()
    assert [i["id"] for i in body] == [str(new.id), str(old.id)]
    for item in body:
        assert set(item) == INVITATION_KEYS | {"inviter_name", "inviter_email"}
    assert body[1]["inviter_name"] == "Admin"
    assert body[1]["inviter_email"] == "admin@example.com"


def test_invitation_list_is_scoped_and_bounded(
    api, ws, other_ws, make_user, django_assert_max_num_queries
):
    Invitation.objects.create(
        workspace=other_ws.workspace,
        inviter=other_ws.owner,
        invitee_email="elsewhere@example.com",
        expires_at=timezone.now() + timedelta(days=1),
    )
    for i in range(15):
        make_invitation(ws, f"r{i}@example.com", inviter=make_user())
    with django_assert_max_num_queries(4):
        body = api.as_user(ws.member).get(ws_invitations_url(ws)).want(200).json()
    assert len(body) == 15
    assert "elsewhere@example.com" not in {i["invitee_email"] for i in body}


# --- revoke -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_revoke(api, ws, make_user, role, events, commit):
    invitee = make_user("bob@example.com")
    invitation = make_invitation(ws, "bob@example.com", invitee_user=invitee)
    with commit():
        resp = api.as_user(getattr(ws, role)).delete(ws_invitations_url(ws, invitation)).want(204)
    assert resp.body == b""
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert [e.type for e in events] == ["invitation:revoked"]
    assert events[0].payload == {
        "invitation_id": str(invitation.id),
        "invitee_email": "bob@example.com",
        "invitee_user_id": str(invitee.id),
    }
    assert events[0].user_ids == (str(invitee.id),)


def test_revoke_without_an_account(api, ws, events, commit):
    invitation = make_invitation(ws, "x@example.com")
    with commit():
        api.as_user(ws.owner).delete(ws_invitations_url(ws, invitation)).want(204)
    assert events[0].payload["invitee_user_id"] is None
    assert events[0].user_ids == ()


def test_member_cannot_revoke(api, ws):
    invitation = make_invitation(ws, "x@example.com")
    resp = api.as_user(ws.member).delete(ws_invitations_url(ws, invitation))
    assert resp.want(403).json() == FORBIDDEN
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_revoke_unknown_foreign_or_settled_is_404(api, ws, other_ws):
    foreign = Invitation.objects.create(
        workspace=other_ws.workspace,
        inviter=other_ws.owner,
        invitee_email="x@example.com",
        expires_at=timezone.now() + timedelta(days=1),
    )
    accepted = make_invitation(ws, "y@example.com", status=InvitationStatus.ACCEPTED)
    base = f"/api/workspaces/{ws.workspace.id}/invitations"
    for invitation_id in (uuid.uuid4(), foreign.id, accepted.id):
        resp = api.as_user(ws.owner).delete(f"{base}/{invitation_id}")
        assert resp.want(404).json() == INVITATION_NOT_FOUND
    assert Invitation.objects.filter(pk__in=[foreign.pk, accepted.pk]).count() == 2


# --- the caller's invitations -----------------------------------------------------------------


def test_my_invitations_by_email_or_user_id(api, ws, other_ws, make_user):
    bob = make_user("bob@example.com")
    by_email = make_invitation(ws, "bob@example.com", inviter=ws.admin)
    age(Invitation.objects.filter(pk=by_email.pk), timedelta(minutes=5))
    by_user = Invitation.objects.create(
        workspace=other_ws.workspace,
        inviter=other_ws.owner,
        invitee_email="old-address@example.com",
        invitee_user=bob,
        expires_at=timezone.now() + timedelta(days=1),
    )
    make_invitation(ws, "alice@example.com")
    make_invitation(ws, "bob2@example.com", invitee_user=make_user("bob2@example.com"))
    expired = make_invitation(
        ws, "bob@example.com", status=InvitationStatus.EXPIRED, expires_at=timezone.now()
    )
    body = api.as_user(bob).get("/api/invitations").want(200).json()
    assert [i["id"] for i in body] == [str(by_user.id), str(by_email.id)]
    assert str(expired.id) not in {i["id"] for i in body}
    for item in body:
        assert set(item) == INVITATION_KEYS | {"inviter_name", "inviter_email", "workspace_name"}
    assert body[1]["workspace_name"] == "Acme"
    assert body[1]["inviter_name"] == "Admin"
    assert body[1]["inviter_email"] == "admin@example.com"
    assert body[0]["workspace_name"] == "Globex"


def test_my_invitations_skip_past_due_ones(api, ws, make_user):
    bob = make_user("bob@example.com")
    make_invitation(ws, "bob@example.com", expires_at=timezone.now() - timedelta(seconds=1))
    assert api.as_user(bob).get("/api/invitations").want(200).json() == []


def test_my_invitations_query_count(api, make_workspace, make_user, django_assert_max_num_queries):
    bob = make_user("bob@example.com")
    for i in range(8):
        workspace = make_workspace(slug=f"team-{i}")
        Invitation.objects.create(
            workspace=workspace,
            inviter=Member.objects.get(workspace=workspace).user,
            invitee_email="bob@example.com",
            expires_at=timezone.now() + timedelta(days=1),
        )
    with django_assert_max_num_queries(2):
        body = api.as_user(bob).get("/api/invitations").want(200).json()
    assert len(body) == 8


def test_get_my_invitation(api, ws, make_user):
    bob = make_user("bob@example.com")
    invitation = make_invitation(ws, "bob@example.com", status=InvitationStatus.DECLINED)
    body = api.as_user(bob).get(f"/api/invitations/{invitation.id}").want(200).json()
    assert set(body) == INVITATION_KEYS | {"inviter_name", "inviter_email", "workspace_name"}
    assert body["status"] == "declined"
    assert body["workspace_name"] == "Acme"
    assert body["inviter_name"] == "Owner"


def test_someone_elses_invitation_is_403_everywhere(api, ws, make_user, events, commit):
    invitation = make_invitation(ws, "bob@example.com")
    mallory = make_user("mallory@example.com")
    with commit():
        for method, suffix in (("get", ""), ("post", "/accept"), ("post", "/decline")):
            resp = getattr(api.as_user(mallory), method)(
                f"/api/invitations/{invitation.id}{suffix}"
            )
            assert resp.want(403).json() == NOT_YOURS
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not Member.objects.filter(user=mallory).exists()
    assert events == []


def test_unknown_invitation_is_404(api, make_user):
    user = make_user()
    for method, suffix in (("get", ""), ("post", "/accept"), ("post", "/decline")):
        resp = getattr(api.as_user(user), method)(f"/api/invitations/{uuid.uuid4()}{suffix}")
        assert resp.want(404).json() == INVITATION_NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/invitations"),
        ("get", "/api/invitations/{id}"),
        ("post", "/api/invitations/{id}/accept"),
        ("post", "/api/invitations/{id}/decline"),
    ],
)
def test_invitation_routes_need_authentication(api, method, path):
    getattr(api.as_user(None), method)(path.format(id=uuid.uuid4())).want(401)


# --- accept -----------------------------------------------------------------------------------


def test_accept_joins_with_the_invited_role(api, ws, make_user, events, commit):
    bob = make_user("bob@example.com", name="Bob")
    invitation = make_invitation(ws, "bob@example.com", role=Role.ADMIN)
    with commit():
        resp = api.as_user(bob).post(f"/api/invitations/{invitation.id}/accept")
    body = resp.want(200).json()
    assert set(body) == MEMBER_KEYS
    member = Member.objects.get(workspace=ws.workspace, user=bob)
    assert body == {
        "id": str(member.id),
        "workspace_id": str(ws.workspace.id),
        "user_id": str(bob.id),
        "role": "admin",
        "created_at": body["created_at"],
        "name": "Bob",
        "email": "bob@example.com",
        "avatar_url": None,
    }
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    bob.refresh_from_db()
    assert bob.onboarded_at is not None

    assert [e.type for e in events] == ["member:added", "invitation:accepted"]
    added, accepted = events
    assert added.payload == {"member": body, "workspace_name": "Acme"}
    assert added.workspace_id == str(ws.workspace.id)
    assert added.user_ids == (str(bob.id),)
    assert accepted.payload == {"invitation_id": str(invitation.id), "member": body}
    assert accepted.workspace_id == str(ws.workspace.id)
    assert (accepted.actor_type, accepted.actor_id) == ("member", str(bob.id))

    # the new member is in
    api.as_user(bob).get(f"/api/workspaces/{ws.workspace.id}").want(200)


def test_accept_keeps_an_existing_onboarded_at(api, ws, make_user):
    earlier = timezone.now() - timedelta(days=30)
    bob = make_user("bob@example.com", onboarded_at=earlier)
    invitation = make_invitation(ws, "bob@example.com")
    api.as_user(bob).post(f"/api/invitations/{invitation.id}/accept").want(200)
    bob.refresh_from_db()
    assert bob.onboarded_at == earlier


def test_invite_before_signup_then_accept(api, ws):
    body = invite(api, ws, ws.owner, "later@example.com").want(201).json()
    later = User.objects.create_user("Later@Example.com")
    mine = api.as_user(later).get("/api/invitations").want(200).json()
    assert [i["id"] for i in mine] == [body["id"]]
    api.as_user(later).post(f"/api/invitations/{body['id']}/accept").want(200)
    assert Member.objects.filter(workspace=ws.workspace, user=later, role=Role.MEMBER).exists()


@pytest.mark.parametrize(
    "status", [InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.EXPIRED]
)
def test_accept_or_decline_a_settled_invitation_is_400(api, ws, make_user, status):
    bob = make_user("bob@example.com")
    invitation = make_invitation(ws, "bob@example.com", status=status)
    for action in ("accept", "decline"):
        resp = api.as_user(bob).post(f"/api/invitations/{invitation.id}/{action}")
        assert resp.want(400).json() == NOT_PENDING
    invitation.refresh_from_db()
    assert invitation.status == status
    assert not Member.objects.filter(workspace=ws.workspace, user=bob).exists()


def test_accept_an_expired_invitation_is_410_and_marks_it(api, ws, make_user, events, commit):
    bob = make_user("bob@example.com")
    invitation = make_invitation(ws, "bob@example.com", expires_at=timezone.now())
    with commit():
        resp = api.as_user(bob).post(f"/api/invitations/{invitation.id}/accept")
    assert resp.want(410).json() == {
        "error": "invitation has expired",
        "code": "invitation_expired",
    }
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED
    assert not Member.objects.filter(workspace=ws.workspace, user=bob).exists()
    assert events == []
    resp = api.as_user(bob).post(f"/api/invitations/{invitation.id}/accept")
    assert resp.want(400).json() == NOT_PENDING


def test_accept_when_already_a_member_is_409(api, ws, events, commit):
    invitation = make_invitation(ws, "member@example.com", role=Role.ADMIN)
    with commit():
        resp = api.as_user(ws.member).post(f"/api/invitations/{invitation.id}/accept")
    assert resp.want(409).json() == {
        "error": "you are already a member of this workspace",
        "code": "already_member",
    }
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert Member.objects.get(workspace=ws.workspace, user=ws.member).role == Role.MEMBER
    assert events == []


def test_accept_by_user_id_after_an_email_change(api, ws, make_user):
    bob = make_user("bob-new@example.com")
    invitation = make_invitation(ws, "bob-old@example.com", invitee_user=bob)
    api.as_user(bob).post(f"/api/invitations/{invitation.id}/accept").want(200)


# --- decline ----------------------------------------------------------------------------------


def test_decline(api, ws, make_user, events, commit):
    bob = make_user("bob@example.com")
    invitation = make_invitation(ws, "bob@example.com")
    with commit():
        resp = api.as_user(bob).post(f"/api/invitations/{invitation.id}/decline").want(204)
    assert resp.body == b""
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    assert not Member.objects.filter(workspace=ws.workspace, user=bob).exists()
    assert [e.type for e in events] == ["invitation:declined"]
    assert events[0].payload == {
        "invitation_id": str(invitation.id),
        "invitee_email": "bob@example.com",
    }
    assert events[0].workspace_id == str(ws.workspace.id)
    assert (events[0].actor_type, events[0].actor_id) == ("member", str(bob.id))
    # declined invitations disappear from both lists, and the address can be invited again
    assert api.as_user(bob).get("/api/invitations").want(200).json() == []
    assert api.as_user(ws.owner).get(ws_invitations_url(ws)).want(200).json() == []
    invite(api, ws, ws.owner, "bob@example.com").want(201)
