"""Login codes under concurrency (reliability-security §4: AUTH-01, AUTH-02, AUTH-03).

Real threads, each with its own PostgreSQL connection, released at the barrier together.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connections
from rest_framework.test import APIClient

from tests.workspaces.test_auth_support import last_code, wrong_code
from workspaces.models import User, VerificationCode

pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(n: int, call: Callable[[int, APIClient], int]) -> list[int]:
    """Run ``call(i, client)`` in ``n`` threads started together; return the status codes."""
    barrier = threading.Barrier(n)
    results: list[int | BaseException] = [0] * n

    def worker(i: int) -> None:
        client = APIClient()
        try:
            barrier.wait(timeout=30)
            results[i] = call(i, client)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test thread
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def _send(client: APIClient, email: str) -> int:
    return client.post("/auth/send-code", {"email": email}, format="json").status_code


def _verify(client: APIClient, email: str, code: str) -> int:
    return client.post(
        "/auth/verify-code", {"email": email, "code": code}, format="json"
    ).status_code


def test_auth01_parallel_wrong_guesses_evaluate_at_most_five():
    email = "target@example.com"
    assert _send(APIClient(), email) == 200
    code = last_code(email)
    guesses = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(50)]
    statuses = run_parallel(50, lambda i, c: _verify(c, email, guesses[i]))
    assert Counter(statuses) == {400: 50}
    row = VerificationCode.objects.get(email=email)
    assert row.attempts == 5
    assert not row.used
    # The code is spent: even the right one fails now.
    assert _verify(APIClient(), email, code) == 400
    assert not User.objects.filter(email=email).exists()


def test_auth03_parallel_correct_submissions_yield_one_session():
    email = "race@example.com"
    assert _send(APIClient(), email) == 200
    code = last_code(email)
    statuses = run_parallel(10, lambda i, c: _verify(c, email, code))
    assert Counter(statuses) == {200: 1, 400: 9}
    assert VerificationCode.objects.get(email=email).used
    assert User.objects.filter(email=email).count() == 1


def test_auth03_parallel_dev_code_submissions_yield_one_session(settings):
    settings.MULTICA_DEV_VERIFICATION_CODE = "888888"
    email = "devrace@example.com"
    assert _send(APIClient(), email) == 200
    statuses = run_parallel(10, lambda i, c: _verify(c, email, "888888"))
    assert Counter(statuses)[200] == 1


def test_auth02_parallel_sends_issue_one_code():
    email = "burst@example.com"
    statuses = run_parallel(10, lambda i, c: _send(c, email))
    assert Counter(statuses) == {200: 1, 429: 9}
    assert VerificationCode.objects.filter(email=email).count() == 1


def test_parallel_wrong_and_right_guesses_never_exceed_the_limit():
    email = "mixed@example.com"
    assert _send(APIClient(), email) == 200
    code = last_code(email)
    bad = wrong_code(code)
    statuses = run_parallel(20, lambda i, c: _verify(c, email, code if i == 0 else bad))
    assert Counter(statuses)[200] <= 1
    assert VerificationCode.objects.get(email=email).attempts <= 5
