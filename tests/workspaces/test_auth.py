"""Login endpoints: send-code, verify-code, password login, logout (spec §1.2, §1.3)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.workspaces.test_auth_support import (
    USER_KEYS,
    age_codes,
    last_code,
    wrong_code,
)
from workspaces import tokens
from workspaces.models import User, VerificationCode
from workspaces.services import auth as auth_service

pytestmark = pytest.mark.django_db

SENT = {"message": "Verification code sent"}
INVALID = {"error": "invalid or expired code", "code": "invalid_code"}


def send(api, email):
    return api.post("/auth/send-code", json={"email": email})


def verify(api, email, code):
    return api.post("/auth/verify-code", json={"email": email, "code": code})


# --- send-code ----------------------------------------------------------------------------------


def test_send_code_stores_only_a_keyed_hmac(api, settings):
    settings.VERIFICATION_CODE_KEY = "k" * 40
    body = send(api, "  Alice@Example.COM ").want(200).json()
    assert body == SENT
    row = VerificationCode.objects.get()
    assert row.email == "alice@example.com"
    code = last_code("alice@example.com")
    expected = hmac.new(b"k" * 40, code.encode(), hashlib.sha256).hexdigest()
    assert row.code_hmac == expected
    assert code not in row.code_hmac
    assert row.code_hmac != hashlib.sha256(code.encode()).hexdigest()  # keyed, not a bare hash
    assert not row.used
    assert row.attempts == 0
    ttl = row.expires_at - row.created_at
    assert ttl == timedelta(minutes=10)


def test_send_code_response_is_compact_json(api):
    r = send(api, "a@example.com").want(200)
    assert r.body == b'{"message":"Verification code sent"}\n'
    assert r.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, "email is required"),
        ({"email": ""}, "email is required"),
        ({"email": "   "}, "email is required"),
        ({"email": None}, "email is required"),
        ({"email": "not-an-email"}, "invalid email"),
        ({"email": "a@" + "b" * 300 + ".com"}, "invalid email"),
        (["a@example.com"], "invalid request body"),
    ],
)
def test_send_code_validation(api, payload, error):
    body = api.post("/auth/send-code", json=payload).want(400).json()
    assert body["error"] == error
    assert VerificationCode.objects.count() == 0


def test_send_code_malformed_json(api):
    r = api.client.post("/auth/send-code", data="{nope", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid request body"


def test_one_code_per_minute(api):
    send(api, "a@example.com").want(200)
    r = send(api, "a@example.com").want(429)
    assert r.json() == {
        "error": "please wait before requesting another code",
        "code": "rate_limited",
    }
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert VerificationCode.objects.count() == 1
    assert len(mail.outbox) == 1
    # Per address: another address is not limited.
    send(api, "b@example.com").want(200)
    age_codes("a@example.com", 61)
    send(api, "A@example.com").want(200)
    assert VerificationCode.objects.filter(email="a@example.com").count() == 2


def test_daily_limit_per_email_counted_in_postgres(api):
    email = "daily@example.com"
    for _ in range(10):
        send(api, email).want(200)
        age_codes(email, 61)  # step past the per-minute limit without sleeping
    r = send(api, email).want(429)
    assert r.json()["code"] == "rate_limited"
    assert "today" in r.json()["error"]
    assert int(r.headers["Retry-After"]) > 60
    assert VerificationCode.objects.filter(email=email).count() == 10
    # A rolling 24 h window: once the old codes are a day old, sending works again.
    age_codes(email, 24 * 3600)
    send(api, email).want(200)


def test_limits_hold_without_redis(api, monkeypatch):
    """AUTH-04: the limits live in PostgreSQL; with Redis unreachable they still hold."""
    from django.core.cache.backends.redis import RedisCache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    for method in ("get", "set", "add", "incr", "delete", "get_many", "set_many", "touch"):
        monkeypatch.setattr(RedisCache, method, down)
    email = "nocache@example.com"
    send(api, email).want(200)
    send(api, email).want(429)
    code = last_code(email)
    for _ in range(5):
        verify(api, email, wrong_code(code)).want(400)
    verify(api, email, code).want(400)


def _shape(r):
    headers = {k: v for k, v in r.headers.items() if k.lower() not in ("date",)}
    return r.status, r.body, headers


def test_known_and_unknown_emails_get_identical_responses(api, make_user):
    make_user("known@example.com")
    first_known = _shape(send(api, "known@example.com"))
    first_unknown = _shape(send(api, "unknown@example.com"))
    assert first_known == first_unknown
    assert first_known[0] == 200
    again_known = send(api, "known@example.com")
    again_unknown = send(api, "unknown@example.com")
    assert again_known.status == again_unknown.status == 429
    assert again_known.body == again_unknown.body


def test_signup_disabled_answers_like_a_known_email_but_issues_no_usable_code(
    api, make_user, settings
):
    settings.ALLOW_SIGNUP = False
    settings.MULTICA_DEV_VERIFICATION_CODE = "888888"
    make_user("member@example.com")
    known = send(api, "member@example.com").want(200)
    stranger = send(api, "stranger@example.com").want(200)
    assert known.body == stranger.body == b'{"message":"Verification code sent"}\n'
    row = VerificationCode.objects.get(email="stranger@example.com")
    assert row.used  # never redeemable
    refusal = next(m for m in mail.outbox if "stranger@example.com" in m.to)
    assert not any(ch.isdigit() for ch in refusal.subject + refusal.body)
    # Neither a guess nor the dev code opens it, and no account appears.
    assert verify(api, "stranger@example.com", "888888").want(400).json() == INVALID
    assert verify(api, "stranger@example.com", "123456").want(400).json() == INVALID
    assert not User.objects.filter(email="stranger@example.com").exists()
    # The rate limits apply to it alike.
    send(api, "stranger@example.com").want(429)
    # Existing users still sign in.
    verify(api, "member@example.com", last_code("member@example.com")).want(200)


def test_allow_lists_win_over_allow_signup(api, settings):
    settings.ALLOW_SIGNUP = False
    settings.ALLOWED_EMAIL_DOMAINS = ["corp.example"]
    settings.ALLOWED_EMAILS = ["vip@elsewhere.example"]
    send(api, "new@corp.example").want(200)
    verify(api, "new@corp.example", last_code("new@corp.example")).want(200)
    send(api, "VIP@elsewhere.example").want(200)
    verify(api, "vip@elsewhere.example", last_code("vip@elsewhere.example")).want(200)
    send(api, "other@elsewhere.example").want(200)
    assert VerificationCode.objects.get(email="other@elsewhere.example").used


def test_non_matching_allow_list_closes_signup_even_when_allowed(api, settings):
    settings.ALLOW_SIGNUP = True
    settings.ALLOWED_EMAIL_DOMAINS = ["corp.example"]
    settings.ALLOWED_EMAILS = []
    assert auth_service.signup_allowed("a@corp.example")
    assert not auth_service.signup_allowed("a@other.example")
    send(api, "a@other.example").want(200)
    assert VerificationCode.objects.get(email="a@other.example").used


def test_deactivated_user_gets_no_usable_code(api, make_user):
    make_user("gone@example.com", is_active=False)
    send(api, "gone@example.com").want(200)
    assert VerificationCode.objects.get(email="gone@example.com").used


def test_dev_line_printed_only_with_console_backend(api, settings, capsys):
    send(api, "quiet@example.com").want(200)
    assert "[DEV]" not in capsys.readouterr().out

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    send(api, "loud@example.com").want(200)
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("[DEV]"))
    code = line.rsplit(": ", 1)[1]
    assert line == f"[DEV] Verification code for loud@example.com: {code}"
    assert (
        auth_service.code_hmac(code)
        == VerificationCode.objects.get(email="loud@example.com").code_hmac
    )


def test_code_never_logged(api, caplog):
    caplog.set_level("DEBUG")
    send(api, "log@example.com").want(200)
    code = last_code("log@example.com")
    verify(api, "log@example.com", code).want(200)
    assert code not in caplog.text


def test_mail_failure_is_503_and_does_not_burn_the_minute(api, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(auth_service, "send_mail", broken)
    body = send(api, "a@example.com").want(503).json()
    assert body["error"] == "failed to send verification code"
    assert VerificationCode.objects.count() == 0
    monkeypatch.undo()
    send(api, "a@example.com").want(200)


# --- verify-code --------------------------------------------------------------------------------


def test_verify_code_creates_user_and_sets_cookies(api):
    send(api, "New.Person@Example.com").want(200)
    code = last_code("new.person@example.com")
    r = verify(api, " NEW.PERSON@example.com ", code).want(200)
    body = r.json()
    assert set(body) == {"token", "user"}
    assert set(body["user"]) == USER_KEYS
    user = User.objects.get(email="new.person@example.com")
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["name"] == "new.person"
    assert body["user"]["onboarding_questionnaire"] == {}
    assert body["user"]["profile_description"] == ""
    claims = tokens.decode_jwt(body["token"])
    assert claims["sub"] == str(user.id)
    assert claims["email"] == user.email

    auth_cookie = r.headers.cookies["multica_auth"]
    assert auth_cookie.value == body["token"]
    assert auth_cookie["httponly"] is True
    assert auth_cookie["samesite"] == "Strict"
    assert auth_cookie["path"] == "/"
    assert auth_cookie["max-age"] == 30 * 24 * 3600
    assert not auth_cookie["secure"]
    assert not auth_cookie["domain"]
    csrf_cookie = r.headers.cookies["multica_csrf"]
    assert not csrf_cookie["httponly"]
    assert csrf_cookie["samesite"] == "Strict"
    assert csrf_cookie["max-age"] == 30 * 24 * 3600
    assert tokens.csrf_token_valid(body["token"], csrf_cookie.value)

    assert VerificationCode.objects.get().used
    # Single use.
    assert verify(api, "new.person@example.com", code).want(400).json() == INVALID


def test_verify_code_existing_user(api, make_user):
    user = make_user("old@example.com", name="Old Timer")
    send(api, "old@example.com").want(200)
    body = verify(api, "old@example.com", last_code("old@example.com")).want(200).json()
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["name"] == "Old Timer"
    assert User.objects.count() == 1


def test_cookies_secure_and_domain_from_settings(api, settings):
    settings.FRONTEND_ORIGIN = "https://app.example.com"
    settings.COOKIE_DOMAIN = ".example.com"
    send(api, "s@example.com").want(200)
    r = verify(api, "s@example.com", last_code("s@example.com")).want(200)
    for name in ("multica_auth", "multica_csrf"):
        assert r.headers.cookies[name]["secure"] is True
        assert r.headers.cookies[name]["domain"] == ".example.com"


def test_cookie_domain_omitted_for_ip(api, settings):
    settings.COOKIE_DOMAIN = "192.168.1.10"
    send(api, "ip@example.com").want(200)
    r = verify(api, "ip@example.com", last_code("ip@example.com")).want(200)
    assert not r.headers.cookies["multica_auth"]["domain"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "a@example.com"}, {"code": "123456"}, {"email": " ", "code": " "}],
)
def test_verify_code_requires_both_fields(api, payload):
    body = api.post("/auth/verify-code", json=payload).want(400).json()
    assert body["error"] == "email and code are required"


def test_wrong_code_counts_attempts_and_locks_after_five(api):
    send(api, "a@example.com").want(200)
    code = last_code("a@example.com")
    for n in range(1, 6):
        assert verify(api, "a@example.com", wrong_code(code)).want(400).json() == INVALID
        assert VerificationCode.objects.get().attempts == n
    # The sixth try is not even evaluated, and the right code no longer works.
    verify(api, "a@example.com", code).want(400)
    assert VerificationCode.objects.get().attempts == 5
    assert not User.objects.filter(email="a@example.com").exists()


def test_malformed_code_is_rejected_generically(api):
    send(api, "a@example.com").want(200)
    for bad in ("12345", "1234567", "abcdef", "12 456"):
        assert verify(api, "a@example.com", bad).want(400).json() == INVALID


def test_unknown_email_and_no_code(api):
    assert verify(api, "nobody@example.com", "123456").want(400).json() == INVALID


def test_expired_code(api):
    send(api, "a@example.com").want(200)
    code = last_code("a@example.com")
    age_codes("a@example.com", 601)
    assert verify(api, "a@example.com", code).want(400).json() == INVALID
    assert VerificationCode.objects.get().attempts == 0


def test_only_the_newest_code_counts(api):
    send(api, "a@example.com").want(200)
    first = last_code("a@example.com")
    age_codes("a@example.com", 61)
    send(api, "a@example.com").want(200)
    second = last_code("a@example.com")
    if first != second:
        verify(api, "a@example.com", first).want(400)
    verify(api, "a@example.com", second).want(200)


def test_dev_code_needs_a_live_code_row(api, settings):
    settings.MULTICA_DEV_VERIFICATION_CODE = "888888"
    assert verify(api, "dev@example.com", "888888").want(400).json() == INVALID
    send(api, "dev@example.com").want(200)
    body = verify(api, "dev@example.com", "888888").want(200).json()
    assert body["user"]["email"] == "dev@example.com"
    # It consumed the live row.
    assert verify(api, "dev@example.com", "888888").want(400).json() == INVALID


def test_dev_code_refused_in_production(api, settings):
    settings.MULTICA_DEV_VERIFICATION_CODE = "888888"
    settings.APP_ENV = "production"
    send(api, "dev@example.com").want(200)
    code = last_code("dev@example.com")
    if code != "888888":
        verify(api, "dev@example.com", "888888").want(400)
    verify(api, "dev@example.com", code).want(200)


@pytest.mark.parametrize("dev_code", ["", "12345", "abcdef", "8888888"])
def test_dev_code_must_be_six_digits(api, settings, dev_code):
    settings.MULTICA_DEV_VERIFICATION_CODE = dev_code
    send(api, "dev@example.com").want(200)
    real = last_code("dev@example.com")
    guess = "123456" if real != "123456" else "654321"
    verify(api, "dev@example.com", guess).want(400)
    if dev_code and dev_code != real:
        verify(api, "dev@example.com", dev_code).want(400)


# --- password login -----------------------------------------------------------------------------


def test_password_login(api, make_user):
    user = make_user("pw@example.com", password="correct horse battery")
    r = api.post(
        "/auth/login", json={"email": " PW@example.com", "password": "correct horse battery"}
    ).want(200)
    body = r.json()
    assert set(body) == {"token", "user"}
    assert body["user"]["id"] == str(user.id)
    assert tokens.decode_jwt(body["token"])["sub"] == str(user.id)
    assert r.headers.cookies["multica_auth"].value == body["token"]
    assert r.headers.cookies["multica_auth"]["httponly"] is True
    assert tokens.csrf_token_valid(body["token"], r.headers.cookies["multica_csrf"].value)


def test_password_login_failures_look_alike(api, make_user, monkeypatch):
    make_user("pw@example.com", password="correct horse battery")
    make_user("nopw@example.com")
    make_user("off@example.com", password="correct horse battery", is_active=False)
    hashed = []
    real = User.set_password

    def spy(self, raw):
        hashed.append(raw)
        return real(self, raw)

    monkeypatch.setattr(User, "set_password", spy)
    cases = [
        ("pw@example.com", "wrong"),
        ("unknown@example.com", "whatever"),
        ("nopw@example.com", "whatever"),
        ("off@example.com", "correct horse battery"),
    ]
    bodies = {
        api.post("/auth/login", json={"email": e, "password": p}).want(400).body for e, p in cases
    }
    assert bodies == {b'{"error":"invalid email or password","code":"invalid_credentials"}\n'}
    assert "whatever" in hashed  # the unknown address still ran the hasher


@pytest.mark.parametrize(
    "payload", [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "", "password": ""}]
)
def test_password_login_requires_both(api, payload):
    body = api.post("/auth/login", json=payload).want(400).json()
    assert body["error"] == "email and password are required"


# --- logout -------------------------------------------------------------------------------------


def test_logout_clears_both_cookies(api, make_user):
    client = APIClient()
    jwt = tokens.issue_jwt(make_user())
    client.cookies["multica_auth"] = jwt
    client.cookies["multica_csrf"] = tokens.csrf_token_for(jwt)
    r = client.post("/auth/logout")
    assert r.status_code == 200
    assert json.loads(r.content) == {"message": "logged out"}
    for name in ("multica_auth", "multica_csrf"):
        cookie = r.cookies[name]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert cookie["path"] == "/"
        assert cookie["samesite"] == "Strict"
    assert r.cookies["multica_auth"]["httponly"] is True


def test_logout_without_session(api):
    assert api.post("/auth/logout").want(200).json() == {"message": "logged out"}


def test_prune_keeps_recent_codes(api):
    send(api, "a@example.com").want(200)
    send(api, "b@example.com").want(200)
    VerificationCode.objects.filter(email="a@example.com").update(
        created_at=timezone.now() - timedelta(days=3)
    )
    assert auth_service.verification_codes_prune() == 1
    assert list(VerificationCode.objects.values_list("email", flat=True)) == ["b@example.com"]
