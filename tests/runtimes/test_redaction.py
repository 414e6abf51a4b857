# ruff: noqa: F401, F811
"""SEC-05: agent output is redacted before it is stored or broadcast — the agent's own
``custom_env`` values verbatim, and known secret formats."""

from __future__ import annotations

import pytest

from agents.models import Agent, AgentTask, TaskMessage
from issues.models import Comment
from multica_site.redact import (
    DEPTH_PLACEHOLDER,
    VALUE_PLACEHOLDER,
    redact_text,
    redact_value,
    secret_values,
)
from runtimes.services import claims
from tests.runtimes.task_fixtures import (
    agent,
    caller_for,
    issue,
    make_agent,
    make_issue,
    make_runtime,
    make_task,
    runtime,
    task,
    task_url,
)

pytestmark = pytest.mark.django_db

ENV_SECRET = "hunter2-custom-value-9f8e"
GITHUB = "ghp_" + "a1B2" * 9
ANTHROPIC = "sk-ant-api03-" + "x" * 30


@pytest.fixture
def leased(ws, runtime, task):
    Agent.objects.filter(pk=task.agent_id).update(custom_env={"MY_SERVICE_CRED": ENV_SECRET})
    claimed = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    return claimed[0].task


def _post(api, ws, task, action, body):
    return api.as_user(ws.owner).post(task_url(task.id, action), json=body)


def test_messages_are_redacted_before_storage_and_broadcast(
    api, ws, leased, captured_events, django_capture_on_commit_callbacks
):
    _post(api, ws, leased, "start", {}).want(200)
    leak = f"env says {ENV_SECRET}; token {GITHUB}; key {ANTHROPIC}"
    messages = [
        {"seq": 1, "type": "text", "content": leak},
        {"seq": 2, "type": "tool_use", "tool": "Bash", "input": {"cmd": [f"echo {ENV_SECRET}"]}},
        {"seq": 3, "type": "tool_result", "output": f"DATABASE_URL=postgres://u:pw@db/x {GITHUB}"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        _post(api, ws, leased, "messages", {"messages": messages}).want(200)
    stored = " ".join(
        str((m.content, m.input, m.output)) for m in TaskMessage.objects.filter(task=leased)
    )
    broadcast = " ".join(str(e.payload) for e in captured_events.of("task:message"))
    for text in (stored, broadcast):
        assert ENV_SECRET not in text
        assert GITHUB not in text
        assert ANTHROPIC not in text
        assert "pw@" not in text
        assert VALUE_PLACEHOLDER in text
        assert "[REDACTED GITHUB TOKEN]" in text


def test_result_comment_and_error_are_redacted(api, ws, leased, django_capture_on_commit_callbacks):
    _post(api, ws, leased, "start", {}).want(200)
    with django_capture_on_commit_callbacks(execute=True):
        _post(api, ws, leased, "complete", {"output": f"done, used {ENV_SECRET}"}).want(200)
    comment = Comment.objects.get(issue_id=leased.issue_id, author_type="agent")
    assert ENV_SECRET not in comment.content
    row = AgentTask.objects.get(pk=leased.pk)
    assert ENV_SECRET not in str(row.result)


def test_progress_summary_is_redacted(
    api, ws, leased, captured_events, django_capture_on_commit_callbacks
):
    _post(api, ws, leased, "start", {}).want(200)
    with django_capture_on_commit_callbacks(execute=True):
        _post(api, ws, leased, "progress", {"summary": f"using {ENV_SECRET}"}).want(200)
    (event,) = captured_events.of("task:progress")
    assert ENV_SECRET not in event.payload["summary"]


def test_short_env_values_are_not_treated_as_secrets():
    assert secret_values({"DEBUG": "1", "MODE": "fast", "K": "long-enough"}) == ["long-enough"]
    assert redact_text("mode fast, debug 1", secret_values({"DEBUG": "1"})) == "mode fast, debug 1"


@pytest.mark.parametrize(
    "secret",
    [
        "AKIA" + "A" * 16,
        "github_pat_" + "b" * 30,
        "xoxb-" + "1234567890abc",
        "glpat-" + "c" * 20,
        "AIza" + "d" * 35,
        "sk_live_" + "e" * 20,
        "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlMTIz",
        "mat_" + "0" * 40,
        "mul_" + "f" * 40,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_known_formats(secret):
    assert secret not in redact_text(f"before {secret} after")


def test_bearer_and_key_value_lines():
    out = redact_text("Authorization: Bearer abc.def-123\nAPI_KEY=xyz123\npassword: hunter22")
    assert "abc.def-123" not in out
    assert "xyz123" not in out
    assert "hunter22" not in out


def test_depth_is_bounded():
    nested: dict = {"v": ENV_SECRET}
    for _ in range(40):
        nested = {"n": nested}
    out = redact_value(nested, [ENV_SECRET])
    assert ENV_SECRET not in str(out)
    assert DEPTH_PLACEHOLDER in str(out)
