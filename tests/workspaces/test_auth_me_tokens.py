"""``/api/me``, ``/api/cli-token``, ``/api/tokens``, and the three ways to authenticate."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.workspaces.test_auth_support import RFC3339_SECONDS, TOKEN_KEYS, USER_KEYS
from workspaces import tokens
from workspaces.models import PersonalAccessToken

pytestmark = pytest.mark.django_db

PAT_RE = re.compile(r"^mul_[0-9a-f]{40}$")


@pytest.fixture
def user(make_user):
    return make_user("me@example.com", name="Me")


def cookie_client(user, *, csrf: str | None = None) -> APIClient:
    client = APIClient()
    jwt = tokens.issue_jwt(user)
    client.cookies["multica_auth"] = jwt
    client.cookies["multica_csrf"] = tokens.csrf_token_for(jwt)
    client.jwt = jwt  # type: ignore[attr-defined]
    return client


def make_pat(api, user, **payload):
    body = {"name": "test", **payload}
    return api.as_user(user).post("/api/tokens", json=body).want(201).json()


# --- /api/me: authentication --------------------------------------------------------------------


def test_me_with_jwt_bearer(api, user):
    body = api.as_user(user).get("/api/me").want(200).json()
    assert set(body) == USER_KEYS
    assert body["id"] == str(user.id)
    assert body["email"] == "me@example.com"
    assert body["name"] == "Me"
    assert body["avatar_url"] is None
    assert body["language"] is None
    assert body["timezone"] is None
    assert body["onboarded_at"] is None
    assert body["onboarding_questionnaire"] == {}
    assert RFC3339_SECONDS.match(body["created_at"])
    assert RFC3339_SECONDS.match(body["updated_at"])


def test_me_with_pat(api, user):
    raw = make_pat(api, user)["token"]
    body = api.with_token(raw).get("/api/me").want(200).json()
    assert body["id"] == str(user.id)
    assert PersonalAccessToken.objects.get().last_used_at is not None


def test_me_with_cookie(user):
    client = cookie_client(user)
    r = client.get("/api/me")
    assert r.status_code == 200
    assert json.loads(r.content)["id"] == str(user.id)


def test_me_requires_auth(api):
    r = api.get("/api/me").want(401)
    assert r.json()["error"] == "missing authorization"


@pytest.mark.parametrize(
    "token",
    ["garbage", "mul_" + "0" * 40, "mat_" + "0" * 40, "mdt_" + "0" * 40, "mcn_abc"],
)
def test_me_rejects_bad_bearer(api, token):
    assert api.with_token(token).get("/api/me").want(401).json()["error"] == "invalid token"


def test_me_rejects_bad_cookie():
    client = APIClient()
    client.cookies["multica_auth"] = "not-a-jwt"
    r = client.get("/api/me")
    assert r.status_code == 401
    assert json.loads(r.content)["error"] == "invalid token"


def test_expired_jwt(api, user):
    stale = tokens.issue_jwt(user, now=timezone.now() - timedelta(days=31))
    api.with_token(stale).get("/api/me").want(401)


def test_expired_pat_is_401(api, user):
    raw = make_pat(api, user, expires_in_days=1)["token"]
    PersonalAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.with_token(raw).get("/api/me").want(401).json()["error"] == "invalid token"


def test_revoked_pat_is_401(api, user):
    created = make_pat(api, user)
    api.with_token(created["token"]).get("/api/me").want(200)
    api.as_user(user).delete(f"/api/tokens/{created['id']}").want(204)
    assert api.with_token(created["token"]).get("/api/me").want(401).json() == {
        "error": "invalid token",
        "code": "unauthorized",
    }


def test_inactive_user_pat_is_401(api, user):
    raw = make_pat(api, user)["token"]
    user.is_active = False
    user.save()
    api.with_token(raw).get("/api/me").want(401)


# --- CSRF (AUTH-05) -----------------------------------------------------------------------------


def test_cookie_unsafe_request_needs_csrf_token(user):
    client = cookie_client(user)
    r = client.patch("/api/me", {"name": "X"}, format="json")
    assert r.status_code == 403
    assert json.loads(r.content)["error"] == "CSRF validation failed"
    user.refresh_from_db()
    assert user.name == "Me"


def test_cookie_unsafe_request_with_wrong_csrf_token(user, make_user):
    client = cookie_client(user)
    other = tokens.csrf_token_for(tokens.issue_jwt(make_user()))
    for bad in (other, "garbage", "00" * 16 + ".deadbeef", ""):
        r = client.patch("/api/me", {"name": "X"}, format="json", HTTP_X_CSRF_TOKEN=bad)
        assert r.status_code == 403, bad
        assert json.loads(r.content)["error"] == "CSRF validation failed"


def test_cookie_unsafe_request_with_right_csrf_token(user):
    client = cookie_client(user)
    csrf = client.cookies["multica_csrf"].value
    r = client.patch("/api/me", {"name": "Renamed"}, format="json", HTTP_X_CSRF_TOKEN=csrf)
    assert r.status_code == 200
    assert json.loads(r.content)["name"] == "Renamed"
    # The cookie-authenticated POSTs work the same way.
    r = client.post("/api/cli-token", HTTP_X_CSRF_TOKEN=csrf)
    assert r.status_code == 200


def test_cookie_post_without_csrf_on_other_endpoints(user):
    client = cookie_client(user)
    assert client.post("/api/cli-token").status_code == 403
    assert client.post("/api/tokens", {"name": "x"}, format="json").status_code == 403
    assert PersonalAccessToken.objects.count() == 0


def test_bearer_requests_need_no_csrf(api, user):
    api.as_user(user).patch("/api/me", json={"name": "Bearer"}).want(200)
    raw = make_pat(api, user)["token"]
    api.with_token(raw).patch("/api/me", json={"name": "Pat"}).want(200)


def test_bearer_wins_over_cookie(api, user, make_user):
    other = make_user("other@example.com")
    client = cookie_client(other)
    r = client.patch(
        "/api/me",
        {"name": "Via bearer"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {tokens.issue_jwt(user)}",
    )
    assert r.status_code == 200
    assert json.loads(r.content)["id"] == str(user.id)


def test_login_cookies_work_end_to_end(make_user):
    user = make_user("pw@example.com", password="s3cret-pass-word")
    client = APIClient()
    r = client.post(
        "/auth/login", {"email": "pw@example.com", "password": "s3cret-pass-word"}, format="json"
    )
    assert r.status_code == 200
    # The test client keeps the cookies the server set.
    assert client.get("/api/me").status_code == 200
    assert client.patch("/api/me", {"name": "Z"}, format="json").status_code == 403
    csrf = client.cookies["multica_csrf"].value
    r = client.patch("/api/me", {"name": "Z"}, format="json", HTTP_X_CSRF_TOKEN=csrf)
    assert r.status_code == 200
    client.post("/auth/logout")
    assert client.get("/api/me").status_code == 401
    user.refresh_from_db()
    assert user.name == "Z"


# --- PATCH /api/me ------------------------------------------------------------------------------


def test_patch_me_updates_fields(api, user):
    me = api.as_user(user)
    body = me.patch(
        "/api/me",
        json={
            "name": "  New Name ",
            "avatar_url": "https://cdn.example.com/a.png",
            "language": "zh-Hans",
            "profile_description": "Backend engineer",
            "timezone": "Europe/Berlin",
        },
    ).want(200)
    body = body.json()
    assert body["name"] == "New Name"
    assert body["avatar_url"] == "https://cdn.example.com/a.png"
    assert body["language"] == "zh-Hans"
    assert body["profile_description"] == "Backend engineer"
    assert body["timezone"] == "Europe/Berlin"
    assert me.get("/api/me").want(200).json() == body
    # Absent keys are untouched; "" / null clear the optional ones.
    body = me.patch("/api/me", json={"timezone": "", "avatar_url": None}).want(200).json()
    assert body["timezone"] is None
    assert body["avatar_url"] is None
    assert body["name"] == "New Name"
    assert body["language"] == "zh-Hans"
    body = me.patch("/api/me", json={"language": None}).want(200).json()
    assert body["language"] is None
    me.patch("/api/me", json={}).want(200)


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ko", "ja"])
def test_patch_me_supported_languages(api, user, language):
    assert api.as_user(user).patch("/api/me", json={"language": language}).want(200).json()[
        "language"
    ] == (language)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"name": ""}, "name is required"),
        ({"name": "   "}, "name is required"),
        ({"name": None}, "name is required"),
        ({"name": "x" * 256}, "name exceeds 255 characters"),
        ({"language": "fr"}, "unsupported language"),
        ({"language": ""}, "unsupported language"),
        ({"language": "zh-hans"}, "unsupported language"),
        ({"profile_description": "x" * 2001}, "profile_description exceeds 2000 characters"),
        ({"timezone": "Mars/Olympus_Mons"}, "invalid timezone"),
        ({"timezone": "../../etc/passwd"}, "invalid timezone"),
        ({"avatar_url": "javascript:alert(1)"}, "invalid avatar_url"),
        (["name"], "invalid request body"),
    ],
)
def test_patch_me_errors(api, user, payload, error):
    r = api.as_user(user).patch("/api/me", json=payload).want(400)
    assert r.json()["error"] == error
    user.refresh_from_db()
    assert user.name == "Me"


def test_patch_me_description_counts_characters_not_bytes(api, user):
    text = "中" * 2000
    body = api.as_user(user).patch("/api/me", json={"profile_description": text}).want(200).json()
    assert body["profile_description"] == text


def test_patch_me_strips_nul_bytes(api, user):
    body = api.as_user(user).patch("/api/me", json={"name": "A\x00B"}).want(200).json()
    assert body["name"] == "AB"


# --- /api/cli-token -----------------------------------------------------------------------------


def test_cli_token(api, user):
    body = api.as_user(user).post("/api/cli-token").want(200).json()
    assert set(body) == {"token"}
    claims = tokens.decode_jwt(body["token"])
    assert claims["sub"] == str(user.id)
    assert claims["email"] == user.email
    assert claims["name"] == user.name
    api.with_token(body["token"]).get("/api/me").want(200)


def test_cli_token_requires_auth(api):
    api.post("/api/cli-token").want(401)


# --- /api/tokens --------------------------------------------------------------------------------


def test_create_token(api, user):
    body = make_pat(api, user, name="CLI (laptop)", expires_in_days=90)
    assert set(body) == {*TOKEN_KEYS, "token"}
    assert PAT_RE.match(body["token"])
    assert body["token_prefix"] == body["token"][:12]
    assert body["name"] == "CLI (laptop)"
    assert body["last_used_at"] is None
    assert RFC3339_SECONDS.match(body["created_at"])
    assert RFC3339_SECONDS.match(body["expires_at"])
    pat = PersonalAccessToken.objects.get()
    assert pat.token_hash == tokens.hash_token(body["token"])
    assert body["token"] not in (pat.token_hash, pat.token_prefix)
    remaining = pat.expires_at - timezone.now()
    assert timedelta(days=89, hours=23) < remaining <= timedelta(days=90)


@pytest.mark.parametrize("payload", [{}, {"expires_in_days": 0}, {"expires_in_days": -5}])
def test_create_token_without_expiry(api, user, payload):
    body = make_pat(api, user, **payload)
    assert body["expires_at"] is None


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, "name is required"),
        ({"name": ""}, "name is required"),
        ({"name": "  "}, "name is required"),
        ({"name": "x", "expires_in_days": 100000}, "expires_in_days must be at most 3650"),
    ],
)
def test_create_token_errors(api, user, payload, error):
    body = api.as_user(user).post("/api/tokens", json=payload).want(400).json()
    assert body["error"] == error


def test_create_token_bad_expiry_type(api, user):
    body = (
        api.as_user(user)
        .post("/api/tokens", json={"name": "x", "expires_in_days": "soon"})
        .want(400)
        .json()
    )
    assert body["error"].startswith("invalid expires_in_days")


def test_list_tokens_newest_first_without_secrets(api, user, make_user):
    first = make_pat(api, user, name="first")
    second = make_pat(api, user, name="second")
    third = make_pat(api, user, name="third")
    PersonalAccessToken.objects.filter(pk=first["id"]).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    PersonalAccessToken.objects.filter(pk=second["id"]).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    api.as_user(user).delete(f"/api/tokens/{second['id']}").want(204)
    make_pat(api, make_user("stranger@example.com"), name="not mine")
    body = api.as_user(user).get("/api/tokens").want(200).json()
    assert [t["name"] for t in body] == ["third", "first"]
    assert all(set(t) == TOKEN_KEYS for t in body)
    assert body[0]["id"] == third["id"]


def test_list_tokens_includes_last_used(api, user):
    created = make_pat(api, user)
    api.with_token(created["token"]).get("/api/me").want(200)
    (listed,) = api.as_user(user).get("/api/tokens").want(200).json()
    assert RFC3339_SECONDS.match(listed["last_used_at"])


def test_revoke_token_is_idempotent_for_the_owner(api, user):
    created = make_pat(api, user)
    me = api.as_user(user)
    r = me.delete(f"/api/tokens/{created['id']}").want(204)
    assert r.body == b""
    me.delete(f"/api/tokens/{created['id']}").want(204)
    assert PersonalAccessToken.objects.get().revoked


def test_revoke_someone_elses_token_is_404(api, user, make_user):
    created = make_pat(api, make_user("victim@example.com"))
    body = api.as_user(user).delete(f"/api/tokens/{created['id']}").want(404).json()
    assert body["error"] == "token not found"
    assert not PersonalAccessToken.objects.get().revoked
    api.with_token(created["token"]).get("/api/me").want(200)


def test_revoke_missing_and_malformed_ids(api, user):
    me = api.as_user(user)
    me.delete("/api/tokens/00000000-0000-0000-0000-000000000000").want(404)
    me.delete("/api/tokens/not-a-uuid").want(404)


def test_tokens_require_auth(api):
    api.get("/api/tokens").want(401)
    api.post("/api/tokens", json={"name": "x"}).want(401)


def test_a_pat_can_manage_tokens(api, user):
    raw = make_pat(api, user)["token"]
    api.with_token(raw).post("/api/tokens", json={"name": "child"}).want(201)
    assert len(api.with_token(raw).get("/api/tokens").want(200).json()) == 2


# --- POST /api/tokens/current/renew -------------------------------------------------------------


def test_renew_refuses_non_pat_credentials(api, user):
    message = "only personal access tokens can be renewed"
    body = api.as_user(user).post("/api/tokens/current/renew").want(400).json()
    assert body["error"] == message
    client = cookie_client(user)
    r = client.post(
        "/api/tokens/current/renew", HTTP_X_CSRF_TOKEN=client.cookies["multica_csrf"].value
    )
    assert r.status_code == 400
    assert json.loads(r.content)["error"] == message


def test_renew_non_expiring_pat(api, user):
    raw = make_pat(api, user)["token"]
    body = api.with_token(raw).post("/api/tokens/current/renew").want(200).json()
    assert body == {"expires_at": "", "renewed": False}


def test_renew_outside_window_is_a_no_op(api, user):
    created = make_pat(api, user, expires_in_days=30)
    body = api.with_token(created["token"]).post("/api/tokens/current/renew").want(200).json()
    assert body == {"expires_at": created["expires_at"], "renewed": False}


def test_renew_inside_window_extends_to_90_days(api, user):
    created = make_pat(api, user, expires_in_days=3)
    body = api.with_token(created["token"]).post("/api/tokens/current/renew").want(200).json()
    assert body["renewed"] is True
    assert RFC3339_SECONDS.match(body["expires_at"])
    pat = PersonalAccessToken.objects.get()
    remaining = pat.expires_at - timezone.now()
    assert timedelta(days=89, hours=23) < remaining <= timedelta(days=90)
    assert body["expires_at"] == pat.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # A second call is outside the window again.
    again = api.with_token(created["token"]).post("/api/tokens/current/renew").want(200).json()
    assert again == {"expires_at": body["expires_at"], "renewed": False}
