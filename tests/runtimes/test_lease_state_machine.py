"""A Hypothesis state machine over claim / start / messages / complete / fail / cancel / sweep /
reclaim, with reports carrying current or stale epochs. Invariants: at most one valid lease
(token) per task, bound to its current epoch; a refused report changes nothing; every attempt
ends at most once and never changes after it ended."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from agents.models import Agent, AgentTask
from agents.services.tasks import tasks_cancel_where
from issues.services import issues as issue_services
from multica_site.errors import DomainError
from runtimes.models import AgentRuntime, TaskToken
from runtimes.services import claims, reports, sweeper
from runtimes.services.claims import Caller
from tests.runtimes.task_fixtures import owner_ctx
from workspaces.context import system_context
from workspaces.models import User
from workspaces.services.workspaces import workspace_create

pytestmark = pytest.mark.django_db

_n = itertools.count(1)
ACTIVE = ("dispatched", "waiting_local_directory", "running")
TERMINAL = ("completed", "failed", "cancelled")
REASONS = ["timeout", "agent_error.unknown", "runtime_offline"]


def _snapshot(pk):
    return AgentTask.objects.filter(pk=pk).values().get()


class LeaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_n)
        self.user = User.objects.create_user(f"sm{n}@example.com")
        self.workspace = workspace_create(user=self.user, name=f"SM {n}", slug=f"sm-{n}")
        self.runtime = AgentRuntime.objects.create(
            workspace=self.workspace, owner=self.user, daemon_id=f"sm-{n}", name="rt",
            provider="claude", status="online", last_seen_at=timezone.now(),
        )  # fmt: skip
        self.agent = Agent.objects.create(
            workspace=self.workspace, runtime=self.runtime, name="sm", owner=self.user
        )
        ctx = owner_ctx(self.workspace, self.user)
        self.issue = issue_services.issue_create(ctx=ctx, title="sm").issue
        self.root = AgentTask.objects.create(
            workspace=self.workspace, agent=self.agent, issue=self.issue, runtime=self.runtime
        )
        self.caller = Caller(user=self.user)
        self.ended: dict = {}  # task id → terminal status when first seen ended
        self.terminal_transitions: dict = {}
        self.user_cancelled: set = set()

    # --- helpers ----------------------------------------------------------------------------

    def current(self) -> AgentTask:
        return (
            AgentTask.objects.filter(agent=self.agent, issue=self.issue)
            .order_by("-created_at", "-attempt")
            .first()
        )

    def report(self, fn, task, stale: bool, **kw):
        epoch = task.lease_epoch - 1 if stale else None
        before = _snapshot(task.pk)
        was_active = before["status"] in ACTIVE
        try:
            with transaction.atomic():
                result = fn(caller=self.caller, task_id=task.pk, epoch=epoch, **kw)
        except DomainError:
            assert _snapshot(task.pk) == before, "a refused report changed the task"
            return None
        assert not stale, "a stale epoch was accepted"
        after = _snapshot(task.pk)
        if was_active and after["status"] in TERMINAL:
            self.terminal_transitions[task.pk] = self.terminal_transitions.get(task.pk, 0) + 1
        return result

    # --- rules ------------------------------------------------------------------------------

    @rule()
    def claim(self):
        AgentRuntime.objects.filter(pk=self.runtime.pk).update(
            status="online", last_seen_at=timezone.now()
        )
        claims.task_claim(caller=self.caller, runtime_ids=[self.runtime.pk], max_tasks=2)

    @rule()
    def lose_response_and_reclaim(self):
        task = self.current()
        AgentTask.objects.filter(pk=task.pk, status="dispatched").update(
            dispatched_at=timezone.now() - timedelta(seconds=120),
            prepare_lease_expires_at=timezone.now() - timedelta(seconds=1),
        )
        self.claim()

    @rule(stale=st.booleans())
    def start(self, stale):
        task = self.current()
        if stale and task.lease_epoch < 1:
            return
        self.report(reports.task_start, task, stale)

    @rule(stale=st.booleans())
    def messages(self, stale):
        task = self.current()
        if stale and task.lease_epoch < 1:
            return
        self.report(
            reports.task_messages_append, task, stale,
            messages=[{"seq": next(_n), "type": "text", "content": "x"}],
        )  # fmt: skip

    @rule(kind=st.sampled_from(["complete", "fail", "cancel-ack"]), stale=st.booleans(),
          reason=st.sampled_from(REASONS))  # fmt: skip
    def terminal(self, kind, stale, reason):
        task = self.current()
        if stale and task.lease_epoch < 1:
            return
        body = (
            {"output": "done"} if kind == "complete" else {"error": "e", "failure_reason": reason}
        )

        def call(*, caller, task_id, epoch):
            return reports.task_report(
                caller=caller, task_id=task_id, kind=kind, body=body, epoch=epoch
            )

        was = _snapshot(task.pk)["status"]
        result = self.report(call, task, stale)
        if result is not None and was in TERMINAL:
            # Accepted after the end: only the idempotent replays that change nothing.
            assert kind in ("complete", "cancel-ack")

    @rule()
    def user_cancel(self):
        task = self.current()
        tasks_cancel_where(
            ctx=system_context(self.workspace), qs=AgentTask.objects.filter(pk=task.pk)
        )
        if _snapshot(task.pk)["status"] == "cancelled" and task.status != "cancelled":
            self.user_cancelled.add(task.pk)
            if task.status in ACTIVE:
                self.terminal_transitions[task.pk] = self.terminal_transitions.get(task.pk, 0) + 1

    @rule()
    def runtime_dies_and_sweep(self):
        AgentRuntime.objects.filter(pk=self.runtime.pk).update(
            status="offline", last_seen_at=timezone.now() - timedelta(days=1)
        )
        actives = set(
            AgentTask.objects.filter(agent=self.agent, status__in=ACTIVE).values_list(
                "pk", flat=True
            )
        )
        sweeper.runtimes_sweep()
        for pk in actives:
            if _snapshot(pk)["status"] in TERMINAL:
                self.terminal_transitions[pk] = self.terminal_transitions.get(pk, 0) + 1

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def at_most_one_valid_lease(self):
        for task in AgentTask.objects.filter(agent=self.agent):
            tokens = list(TaskToken.objects.filter(task=task))
            assert len(tokens) <= 1
            if task.status in ACTIVE and task.status != "queued" and task.lease_epoch:
                for token in tokens:
                    assert token.lease_epoch == task.lease_epoch
            if task.status in TERMINAL:
                # Every end of an attempt, a user cancel included, deletes its task token in
                # the same transaction.
                assert not tokens, f"token survived the end of {task.status} attempt"

    @invariant()
    def each_attempt_ends_once(self):
        for task in AgentTask.objects.filter(agent=self.agent):
            if task.status in TERMINAL:
                first = self.ended.setdefault(task.pk, task.status)
                assert task.status == first, "an ended attempt changed its status"
        assert all(n <= 1 for n in self.terminal_transitions.values())
        # Only one pending or running attempt of (agent, issue) at a time.
        assert (
            AgentTask.objects.filter(agent=self.agent, issue=self.issue, status__in=ACTIVE).count()
            <= 1
        )


def test_lease_state_machine():
    run_state_machine_as_test(
        LeaseMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
