"""Agent triggering (spec §3.9, §5.6, §5.7): assignment, status moves, comments, deletion."""

from __future__ import annotations

import pytest
from django.db import transaction

from agents.models import Agent, AgentTask
from agents.services import dispatch as d
from issues.models import Comment
from issues.services import comments as comment_services
from issues.services import issues as issue_services
from issues.services.statuses import status_create
from runtimes.models import AgentRuntime
from tests.agents.conftest_dispatch import *  # noqa: F403
from tests.agents.conftest_dispatch import agent_context, context_for, mention, tasks_of
from workspaces.context import Actor, WorkspaceContext, system_context

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatch")]


def assign(agent: Agent) -> dict:
    return {"assignee_type": "agent", "assignee_id": str(agent.id)}


def comment(ctx: WorkspaceContext, issue, content: str, **kw) -> comment_services.CommentResult:
    return comment_services.comment_create(ctx=ctx, issue_ref=issue.id, content=content, **kw)


# --- assignment and status ----------------------------------------------------------------------


def test_create_assigned_enqueues_queued_task_with_events(
    owner_ctx, agent, make_issue, captured_events, wakeups, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issue = make_issue(owner_ctx, priority="high", **assign(agent))
    [task] = tasks_of(issue)
    assert task.status == "queued"
    assert task.agent_id == agent.id
    assert task.runtime_id == agent.runtime_id
    assert task.workspace_id == owner_ctx.workspace_id
    assert task.priority == 3
    assert task.trigger_comment_id is None
    assert task.originator_user_id == owner_ctx.user.id
    assert task.initiator_user_id == owner_ctx.user.id
    [event] = captured_events.of("task:queued")
    assert event.payload == {
        "task_id": str(task.id),
        "agent_id": str(agent.id),
        "issue_id": str(issue.id),
        "status": "queued",
    }
    assert event.actor_type == "system"
    assert event.actor_id == ""
    assert event.workspace_id == str(owner_ctx.workspace_id)
    assert wakeups == [
        (
            str(agent.runtime_id),
            "daemon:task_available",
            {"runtime_id": str(agent.runtime_id), "task_id": str(task.id)},
        )
    ]


def test_nothing_is_announced_when_the_write_rolls_back(
    owner_ctx, agent, captured_events, wakeups, django_capture_on_commit_callbacks
):
    def create_then_fail() -> None:
        with transaction.atomic():
            issue_services.issue_create(ctx=owner_ctx, title="Rolled back", **assign(agent))
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        create_then_fail()
    assert not captured_events.of("task:queued")
    assert wakeups == []
    assert not AgentTask.objects.exists()


@pytest.mark.parametrize(
    ("priority", "rank"), [("urgent", 4), ("high", 3), ("medium", 2), ("low", 1), ("none", 0)]
)
def test_priority_rank(owner_ctx, agent, make_issue, priority, rank):
    issue = make_issue(owner_ctx, priority=priority, **assign(agent))
    assert tasks_of(issue)[0].priority == rank


def test_backlog_never_triggers_and_leaving_it_does(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    assert tasks_of(issue) == []
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields={"status": "todo"})
    assert [t.status for t in tasks_of(issue)] == ["queued"]


@pytest.mark.parametrize("target", ["done", "cancelled", "backlog_custom"])
def test_leaving_backlog_for_closed_or_backlog_category_does_not_trigger(
    owner_ctx, agent, make_issue, target
):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    if target == "backlog_custom":
        target = status_create(
            ctx=owner_ctx, name="Icebox", category="backlog", color="#123456"
        ).key
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields={"status": target})
    assert tasks_of(issue) == []


def test_custom_status_in_backlog_category_parks_assignment(owner_ctx, agent, make_issue):
    icebox = status_create(ctx=owner_ctx, name="Icebox", category="backlog", color="#123456")
    issue = make_issue(owner_ctx, status=icebox.key, **assign(agent))
    assert tasks_of(issue) == []


def test_reassignment_to_agent_triggers(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    assert tasks_of(issue) == []
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields=assign(agent))
    assert len(tasks_of(issue, status="queued")) == 1


def test_status_change_among_active_statuses_does_not_retrigger(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.filter(issue=issue).update(status="completed")
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields={"status": "in_progress"})
    assert len(tasks_of(issue)) == 1


def test_pending_run_is_not_duplicated_on_reassign_back(owner_ctx, agent, ws, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    member_fields = {"assignee_type": "member", "assignee_id": str(ws.member.id)}
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields=member_fields)
    issue_services.issue_update(ctx=owner_ctx, issue_ref=issue.id, fields=assign(agent))
    assert len(tasks_of(issue)) == 1


def test_reassignment_and_closing_do_not_cancel(owner_ctx, agent, ws, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    issue_services.issue_update(
        ctx=owner_ctx,
        issue_ref=issue.id,
        fields={"assignee_type": "member", "assignee_id": str(ws.member.id), "status": "done"},
    )
    assert [t.status for t in tasks_of(issue)] == ["queued"]


def test_suppress_run_and_handoff_note(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    issue_services.issue_update(
        ctx=owner_ctx, issue_ref=issue.id, fields=assign(agent), suppress_run=True
    )
    assert tasks_of(issue) == []
    other = make_issue(owner_ctx)
    issue_services.issue_update(
        ctx=owner_ctx, issue_ref=other.id, fields=assign(agent), handoff_note="look at the logs"
    )
    assert tasks_of(other)[0].handoff_note == "look at the logs"


def test_agent_assigning_itself_does_not_trigger_itself(ws, agent, owner_ctx, make_issue):
    running_on = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.filter(issue=running_on).update(status="running")
    ctx = agent_context(ws.workspace, agent, ws.owner)
    issue = make_issue(ctx, **assign(agent))
    assert tasks_of(issue) == []
    issue_services.issue_update(ctx=ctx, issue_ref=running_on.id, fields={"status": "backlog"})
    issue_services.issue_update(ctx=ctx, issue_ref=running_on.id, fields={"status": "todo"})
    assert len(tasks_of(running_on)) == 1


def test_api_put_move_and_batch_assign(api, ws, agent, owner_ctx, make_issue):
    one, two, three = make_issue(owner_ctx), make_issue(owner_ctx), make_issue(owner_ctx)
    client = api.as_user(ws.owner)
    client.put(f"/api/issues/{one.id}", json=assign(agent), ws=ws.workspace).want(200)
    client.post(
        f"/api/issues/{two.id}/move",
        json={"before_id": None, "after_id": None, **assign(agent)},
        ws=ws.workspace,
    ).want(200)
    out = (
        client.post(
            "/api/issues/batch-update",
            json={"issue_ids": [str(three.id)], "updates": assign(agent)},
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert out == {"updated": 1}
    for issue in (one, two, three):
        assert len(tasks_of(issue, status="queued")) == 1


def test_offline_runtime_still_enqueues(owner_ctx, make_agent, make_runtime, make_issue):
    agent = make_agent(runtime=make_runtime(status=AgentRuntime.Status.OFFLINE))
    issue = make_issue(owner_ctx, **assign(agent))
    assert len(tasks_of(issue, status="queued")) == 1


@pytest.mark.parametrize("kind", ["unbound", "not_executable"])
def test_unrunnable_assignee_is_assigned_without_a_task(
    owner_ctx, make_agent, make_runtime, make_issue, kind
):
    if kind == "unbound":
        agent = make_agent(runtime=None)
    else:
        rt = make_runtime(
            status=AgentRuntime.Status.OFFLINE,
            metadata={"offline_reason": {"code": "not_executable", "detail": "EACCES"}},
        )
        agent = make_agent(runtime=rt)
    issue = make_issue(owner_ctx, **assign(agent))
    assert issue.assignee_id == agent.id
    assert tasks_of(issue) == []


def test_archived_agent_cannot_be_assigned(api, ws, make_agent):
    from django.utils import timezone

    agent = make_agent(archived_at=timezone.now())
    body = (
        api.as_user(ws.owner)
        .post("/api/issues", json={"title": "x", **assign(agent)}, ws=ws.workspace)
        .want(400)
        .json()
    )
    assert body["error"] == "cannot assign to archived agent"


def test_foreign_agent_cannot_be_assigned(api, ws, other_ws, make_agent, make_runtime):
    foreign = make_agent(
        workspace=other_ws.workspace,
        owner=other_ws.owner,
        runtime=make_runtime(workspace=other_ws.workspace),
    )
    api.as_user(ws.owner).post(
        "/api/issues", json={"title": "x", **assign(foreign)}, ws=ws.workspace
    ).want(400)


# --- invocation permission (§5.6) ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "admin"])
def test_private_agent_assignment_is_403_for_non_owner(api, ws, agent, who):
    user = ws.member if who == "member" else ws.admin
    body = (
        api.as_user(user)
        .post("/api/issues", json={"title": "x", **assign(agent)}, ws=ws.workspace)
        .want(403)
        .json()
    )
    assert body["reason_code"] == "invocation_not_allowed"
    assert body["error"]
    assert not AgentTask.objects.exists()


def test_private_agent_update_is_403_and_writes_nothing(api, ws, agent, owner_ctx, make_issue):
    issue = make_issue(owner_ctx)
    body = (
        api.as_user(ws.member)
        .put(f"/api/issues/{issue.id}", json=assign(agent), ws=ws.workspace)
        .want(403)
        .json()
    )
    assert body["reason_code"] == "invocation_not_allowed"
    issue.refresh_from_db()
    assert issue.assignee_id is None


def test_public_to_workspace_admits_members(api, ws, make_agent):
    agent = make_agent(targets=[("workspace", ws.workspace.id)])
    created = (
        api.as_user(ws.member)
        .post("/api/issues", json={"title": "x", **assign(agent)}, ws=ws.workspace)
        .want(201)
        .json()
    )
    [task] = AgentTask.objects.filter(issue_id=created["id"])
    assert task.originator_user_id == ws.member.id


def test_public_to_member_target_admits_only_that_member(api, ws, make_agent):
    agent = make_agent(targets=[("member", ws.member.id)])
    api.as_user(ws.member).post(
        "/api/issues", json={"title": "x", **assign(agent)}, ws=ws.workspace
    ).want(201)
    api.as_user(ws.admin).post(
        "/api/issues", json={"title": "y", **assign(agent)}, ws=ws.workspace
    ).want(403)


def test_team_targets_never_match(api, ws, make_agent):
    agent = make_agent(targets=[("team", ws.workspace.id)])
    api.as_user(ws.member).post(
        "/api/issues", json={"title": "x", **assign(agent)}, ws=ws.workspace
    ).want(403)


def test_can_invoke_judges_agent_actors_by_their_originator(ws, make_agent, make_issue):
    from agents.invocation import ctx_can_invoke

    private = make_agent(name="Private")  # owned by ws.owner
    caller = make_agent(name="Caller", owner=ws.member)
    issue = make_issue(context_for(ws.workspace, ws.owner))
    task = AgentTask.objects.create(
        workspace=ws.workspace, agent=caller, issue=issue, status="running",
        originator_user_id=ws.member.id,
    )  # fmt: skip
    ctx = agent_context(ws.workspace, caller, ws.member)
    assert not ctx_can_invoke(ctx, private)  # member's agent cannot borrow the owner's agent
    task.originator_user_id = ws.owner.id
    task.save()
    assert ctx_can_invoke(ctx, private)
    member_only = make_agent(name="MemberOnly", targets=[("member", ws.admin.id)])
    task.originator_user_id = None
    task.save()
    assert not ctx_can_invoke(ctx, member_only)  # unattributed chains fail closed
    ws_wide = make_agent(name="WsWide", targets=[("workspace", ws.workspace.id)])
    assert ctx_can_invoke(ctx, ws_wide)
    assert ctx_can_invoke(system_context(ws.workspace), ws_wide)
    assert not ctx_can_invoke(system_context(ws.workspace), private)


# --- comments ----------------------------------------------------------------------------------


def test_mention_queues_and_reports_outcome(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    result = comment(owner_ctx, issue, f"{mention(agent)} please fix")
    [task] = tasks_of(issue)
    assert task.trigger_comment_id == result.comment.id
    assert task.trigger_summary.endswith("please fix")
    assert result.trigger_outcomes == [
        {
            "target_type": "agent",
            "target_id": str(agent.id),
            "status": "queued",
            "reason_code": "queued",
        }
    ]
    assert result.wire()["trigger_outcomes"] == result.trigger_outcomes


def test_mention_works_on_closed_and_backlog_issues(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, status="done")
    comment(owner_ctx, issue, mention(agent))
    assert len(tasks_of(issue)) == 1


@pytest.mark.parametrize("content", ["/note {m} remember this", "  /NOTE\n{m}", "/note"])
def test_note_never_triggers(owner_ctx, agent, make_issue, content):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.all().delete()
    result = comment(owner_ctx, issue, content.format(m=mention(agent)))
    assert result.trigger_outcomes == []
    assert tasks_of(issue) == []


def test_notes_prefix_must_be_the_whole_token(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    comment(owner_ctx, issue, f"/notes {mention(agent)}")
    assert len(tasks_of(issue)) == 1


def test_second_comment_coalesces_into_queued_task(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    first = comment(owner_ctx, issue, f"{mention(agent)} one")
    second = comment(owner_ctx, issue, f"{mention(agent)} two")
    third = comment(owner_ctx, issue, f"{mention(agent)} three")
    [task] = tasks_of(issue)
    assert task.trigger_comment_id == third.comment.id
    assert sorted(task.coalesced_comment_ids) == sorted([first.comment.id, second.comment.id])
    assert second.trigger_outcomes[0]["status"] == "coalesced"
    assert second.trigger_outcomes[0]["reason_code"] == "coalesced"


def test_coalescing_reattributes_to_the_newest_author(ws, owner_ctx, make_agent, make_issue):
    agent = make_agent(targets=[("workspace", ws.workspace.id)])
    issue = make_issue(owner_ctx)
    comment(owner_ctx, issue, mention(agent))
    comment(context_for(ws.workspace, ws.member), issue, mention(agent))
    [task] = tasks_of(issue)
    assert task.originator_user_id == ws.member.id


def test_assignment_task_absorbs_comments_before_it_starts(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    result = comment(owner_ctx, issue, "more context")
    [task] = tasks_of(issue)
    assert task.trigger_comment_id == result.comment.id
    assert task.coalesced_comment_ids == []


def test_comment_to_a_dispatched_task_is_deferred(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.filter(issue=issue).update(status="dispatched")
    result = comment(owner_ctx, issue, mention(agent))
    assert result.trigger_outcomes[0]["status"] == "deferred"
    assert result.trigger_outcomes[0]["reason_code"] == "deferred"
    assert len(tasks_of(issue)) == 1


def test_comment_while_running_queues_a_follow_up(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.filter(issue=issue).update(status="running")
    result = comment(owner_ctx, issue, mention(agent))
    assert result.trigger_outcomes[0]["status"] == "queued"
    assert sorted(t.status for t in tasks_of(issue)) == ["queued", "running"]


def _blocked(result, agent_id) -> str:
    [outcome] = result.trigger_outcomes
    assert outcome["status"] == "blocked"
    assert outcome["target_id"] == str(agent_id)
    return outcome["reason_code"]


def test_mention_refusals_carry_reason_codes(
    ws, owner_ctx, make_agent, make_runtime, make_issue, other_ws
):
    from django.utils import timezone

    issue = make_issue(owner_ctx)
    private = make_agent(name="Private")
    member_ctx = context_for(ws.workspace, ws.member)
    assert _blocked(comment(member_ctx, issue, mention(private)), private.id) == (
        "invocation_not_allowed"
    )
    admin_ctx = context_for(ws.workspace, ws.admin)
    assert _blocked(comment(admin_ctx, issue, mention(private)), private.id) == (
        "invocation_not_allowed"
    )
    archived = make_agent(name="Archived", archived_at=timezone.now())
    assert _blocked(comment(owner_ctx, issue, mention(archived)), archived.id) == (
        "target_unavailable"
    )
    unbound = make_agent(name="Unbound", runtime=None)
    assert _blocked(comment(owner_ctx, issue, mention(unbound)), unbound.id) == (
        "agent_runtime_required"
    )
    broken = make_agent(
        name="Broken",
        runtime=make_runtime(
            status="offline", metadata={"offline_reason": {"code": "not_executable"}}
        ),
    )
    assert _blocked(comment(owner_ctx, issue, mention(broken)), broken.id) == "runtime_unusable"
    foreign = make_agent(
        workspace=other_ws.workspace,
        name="Foreign",
        owner=other_ws.owner,
        runtime=make_runtime(workspace=other_ws.workspace),
    )
    assert _blocked(comment(owner_ctx, issue, mention(foreign)), foreign.id) == (
        "invocation_not_allowed"
    )
    assert tasks_of(issue) == []


def test_invoke_gate_runs_before_state_is_revealed(ws, owner_ctx, make_agent, make_issue):
    from django.utils import timezone

    issue = make_issue(owner_ctx)
    archived_private = make_agent(name="Gone", archived_at=timezone.now())
    result = comment(context_for(ws.workspace, ws.member), issue, mention(archived_private))
    assert _blocked(result, archived_private.id) == "invocation_not_allowed"


def test_squad_mentions_are_unavailable(owner_ctx, make_issue):
    issue = make_issue(owner_ctx)
    squad_id = "0190a0a0-0000-7000-8000-000000000001"
    result = comment(owner_ctx, issue, f"[@Squad](mention://squad/{squad_id})")
    assert result.trigger_outcomes == [
        {
            "target_type": "squad",
            "target_id": squad_id,
            "status": "blocked",
            "reason_code": "target_unavailable",
        }
    ]


def test_several_mentions_each_get_an_outcome(owner_ctx, make_agent, make_issue):
    a, b = make_agent(name="A"), make_agent(name="B", runtime=None)
    issue = make_issue(owner_ctx)
    result = comment(owner_ctx, issue, f"{mention(a)} and {mention(b)} and {mention(a)}")
    assert [(o["target_id"], o["status"]) for o in result.trigger_outcomes] == [
        (str(a.id), "queued"),
        (str(b.id), "blocked"),
    ]


def test_suppress_agent_ids_drops_target(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    result = comment(owner_ctx, issue, mention(agent), suppress_agent_ids=[str(agent.id)])
    assert result.trigger_outcomes == []
    assert tasks_of(issue) == []


def test_suppress_agent_ids_drops_the_assignee_fallback(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.all().update(status="completed")
    comment(owner_ctx, issue, "hello", suppress_agent_ids=[str(agent.id)])
    assert len(tasks_of(issue)) == 1


def test_plain_comment_falls_back_to_agent_assignee(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    result = comment(owner_ctx, issue, "can you take a look?")
    assert result.trigger_outcomes == []  # implicit routes report no outcome
    [task] = tasks_of(issue)
    assert task.trigger_comment_id == result.comment.id


def test_assignee_fallback_respects_invocation_permission(ws, owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    comment(context_for(ws.workspace, ws.member), issue, "poke")
    assert tasks_of(issue) == []


@pytest.mark.parametrize("content", ["[@All](mention://all/all) fyi", "[@M](mention://member/{m})"])
def test_all_and_member_mentions_do_not_route(ws, owner_ctx, agent, make_issue, content):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    comment(owner_ctx, issue, content.format(m=ws.member.id))
    assert tasks_of(issue) == []


def test_agent_comment_does_not_trigger_assignee_itself(ws, agent, owner_ctx, make_issue):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    result = comment(agent_context(ws.workspace, agent, ws.owner), issue, "done, see PR")
    assert result.trigger_outcomes == []
    assert tasks_of(issue) == []


def test_agent_self_mention_during_its_run_is_suppressed(ws, agent, owner_ctx, make_issue):
    issue = make_issue(owner_ctx, **assign(agent))
    AgentTask.objects.filter(issue=issue).update(status="running")
    result = comment(agent_context(ws.workspace, agent, ws.owner), issue, f"{mention(agent)} hi")
    assert _blocked(result, agent.id) == "self_trigger_suppressed"
    assert len(tasks_of(issue)) == 1


def test_agent_mentioning_another_agent_is_judged_by_originator(
    ws, owner_ctx, make_agent, make_issue
):
    worker = make_agent(name="Worker")  # private, owner's
    caller = make_agent(name="Caller")
    issue = make_issue(owner_ctx, **assign(caller))
    AgentTask.objects.filter(issue=issue).update(status="running")  # originator = owner
    result = comment(agent_context(ws.workspace, caller, ws.owner), issue, mention(worker))
    assert result.trigger_outcomes[0]["status"] == "queued"
    task = AgentTask.objects.get(issue=issue, agent=worker)
    assert task.originator_user_id == ws.owner.id


def test_reply_under_agent_comment_routes_to_that_agent(ws, owner_ctx, make_agent, make_issue):
    author, assignee = make_agent(name="Author"), make_agent(name="Assignee")
    issue = make_issue(owner_ctx, status="backlog", **assign(assignee))
    agent_comment = comment(agent_context(ws.workspace, author, ws.owner), issue, "question?")
    reply = comment(owner_ctx, issue, "answer", parent_id=str(agent_comment.comment.id))
    [task] = tasks_of(issue)
    assert task.agent_id == author.id
    assert task.trigger_comment_id == reply.comment.id


def test_reply_in_member_thread_routes_to_agents_the_root_triggered(
    owner_ctx, agent, make_agent, make_issue
):
    assignee = make_agent(name="Assignee")
    issue = make_issue(owner_ctx, status="backlog", **assign(assignee))
    root = comment(owner_ctx, issue, f"{mention(agent)} investigate")
    AgentTask.objects.filter(issue=issue).update(status="completed")
    # The root's mention owns the thread: a plain reply goes to that agent, not the assignee.
    reply = comment(owner_ctx, issue, "also check X", parent_id=str(root.comment.id))
    queued = tasks_of(issue, status="queued")
    assert [(t.agent_id, t.trigger_comment_id) for t in queued] == [(agent.id, reply.comment.id)]


def test_reply_in_member_thread_without_mention_uses_earlier_runs(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    root = comment(owner_ctx, issue, "background for everyone")
    AgentTask.objects.create(
        workspace_id=owner_ctx.workspace_id, agent=agent, issue=issue, status="completed",
        trigger_comment_id=root.comment.id,
    )  # fmt: skip
    reply = comment(owner_ctx, issue, "follow-up", parent_id=str(root.comment.id))
    [task] = tasks_of(issue, status="queued")
    assert task.agent_id == agent.id
    assert task.trigger_comment_id == reply.comment.id


def test_member_to_member_reply_does_not_wake_assignee(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx, status="backlog", **assign(agent))
    root = comment(owner_ctx, issue, "/note just us")
    comment(owner_ctx, issue, "agreed", parent_id=str(root.comment.id))
    assert tasks_of(issue) == []


def test_edited_comment_reevaluates_triggers(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    result = comment(owner_ctx, issue, "/note later")
    assert tasks_of(issue) == []
    edited = comment_services.comment_update(
        ctx=owner_ctx, comment_id=result.comment.id, content=f"{mention(agent)} now"
    )
    assert edited.trigger_outcomes[0]["status"] == "queued"


# --- deletion ----------------------------------------------------------------------------------


def test_issue_delete_cancels_active_tasks_and_announces(
    owner_ctx, agent, make_agent, make_issue, captured_events, django_capture_on_commit_callbacks
):
    other = make_agent(name="Other")
    issue = make_issue(owner_ctx, **assign(agent))
    comment(owner_ctx, issue, mention(other))
    AgentTask.objects.filter(agent=agent).update(status="running")
    Agent.objects.filter(pk=agent.pk).update(status="working")
    done = AgentTask.objects.create(
        workspace_id=owner_ctx.workspace_id, agent=agent, issue=issue, status="completed"
    )
    ids = {str(t.id) for t in tasks_of(issue) if t.pk != done.pk}
    with django_capture_on_commit_callbacks(execute=True):
        issue_services.issue_delete(ctx=owner_ctx, issue_ref=issue.id)
    cancelled = captured_events.of("task:cancelled")
    assert {e.payload["task_id"] for e in cancelled} == ids
    assert all(e.payload["status"] == "cancelled" for e in cancelled)
    assert all(e.payload["issue_id"] == str(issue.id) for e in cancelled)
    types = captured_events.types()
    assert types.index("task:cancelled") < types.index("issue:deleted")
    [status] = captured_events.of("agent:status")
    assert status.payload["agent"]["id"] == str(agent.id)
    assert status.payload["agent"]["status"] == "idle"
    assert not AgentTask.objects.filter(issue_id=issue.id).exists()  # cascaded


def test_comment_delete_cancels_tasks_it_triggered(owner_ctx, agent, make_agent, make_issue):
    other = make_agent(name="Other")
    issue = make_issue(owner_ctx)
    first = comment(owner_ctx, issue, mention(agent))
    comment(owner_ctx, issue, mention(agent))  # coalesces; first is now a coalesced input
    kept = comment(owner_ctx, issue, mention(other))
    comment_services.comment_delete(ctx=owner_ctx, comment_id=first.comment.id)
    task = AgentTask.objects.get(issue=issue, agent=agent)
    assert task.status == "cancelled"
    assert task.completed_at is not None
    assert AgentTask.objects.get(trigger_comment_id=kept.comment.id).status == "queued"


def test_deleting_a_thread_root_cancels_tasks_of_its_replies(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    root = comment(owner_ctx, issue, "root")
    comment(owner_ctx, issue, mention(agent), parent_id=str(root.comment.id))
    comment_services.comment_delete(ctx=owner_ctx, comment_id=root.comment.id)
    assert [t.status for t in tasks_of(issue)] == ["cancelled"]
    assert not Comment.objects.filter(issue=issue).exists()


# --- realtime scope ----------------------------------------------------------------------------


def test_task_scope_authorizer(owner_ctx, agent, make_issue, other_ws):
    from workspaces.consumers import SCOPE_AUTHORIZERS

    issue = make_issue(owner_ctx, **assign(agent))
    task = tasks_of(issue)[0]
    authorize = SCOPE_AUTHORIZERS["task"]
    assert authorize(owner_ctx, str(task.id))
    assert not authorize(owner_ctx, "not-a-uuid")
    assert not authorize(system_context(other_ws.workspace), str(task.id))


def test_register_is_idempotent():
    d.register()
    d.register()
    assert issue_services.ISSUE_CREATED_HOOKS.count(d.on_issue_created) == 1
    assert comment_services.COMMENT_TRIGGER_HOOKS.count(d.on_comment) == 1


def test_system_actor_context_type():
    assert Actor.system().type == "system"
