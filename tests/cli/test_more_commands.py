"""More of the command tree against the live server: comment resolution, issue labels,
subscribers, usage and timeline; ``project …``, ``label …``, ``workspace create|update|member``
and ``runtime activity``."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UNKNOWN = "00000000-0000-0000-0000-000000000000"


def test_comment_resolve_and_unresolve(owner_cli):
    cli = owner_cli
    key = cli.run("issue", "create", "--title", "Threads").ok().json()["identifier"]
    comment = cli.run("issue", "comment", "add", key, "--content", "settle this").ok().json()
    resolved = cli.run("issue", "comment", "resolve", comment["id"]).ok()
    assert resolved.json()["resolved_at"]
    assert f"Comment {comment['id']} resolved." in resolved.stderr
    reopened = cli.run("issue", "comment", "unresolve", comment["id"]).ok()
    assert reopened.json()["resolved_at"] is None
    assert "unresolved" in reopened.stderr
    quiet = cli.run("issue", "comment", "resolve", comment["id"], "--output", "table").ok()
    assert quiet.stdout == ""

    cli.run("issue", "comment", "resolve", "not-a-uuid").fails(5)
    cli.run("issue", "comment", "unresolve", UNKNOWN).fails(4)


def test_issue_labels(owner_cli):
    cli = owner_cli
    key = cli.run("issue", "create", "--title", "Labelled").ok().json()["identifier"]
    label = cli.run("label", "create", "--name", "bug", "--color", "#FF0000").ok().json()
    assert label["color"] == "#ff0000"

    attached = cli.run("issue", "label", "add", key, label["id"][:8], "--output", "json").ok()
    assert [lb["id"] for lb in attached.json()] == [label["id"]]
    assert f"attached to issue {key}" in attached.stderr
    listed = cli.run("issue", "label", "list", key.lower(), "--output", "json").ok().json()
    assert [lb["name"] for lb in listed] == ["bug"]
    table = cli.run("issue", "label", "list", key).ok().stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "COLOR"]
    assert table[1].split() == [label["id"][:8], "bug", "#ff0000"]
    full = cli.run("issue", "label", "list", key, "--full-id").ok().stdout
    assert label["id"] in full

    removed = cli.run("issue", "label", "remove", key, label["id"], "--output", "json").ok()
    assert removed.json() == []
    assert cli.run("issue", "label", "list", key, "--output", "json").ok().json() == []

    cli.run("issue", "label", "add", key, "ffffffff").fails(4)  # no such label prefix
    cli.run("issue", "label", "add", key, "zz").fails(5)
    cli.run("issue", "label", "list", "NOPE-999").fails(4)


def test_issue_subscribers(owner_cli, seed):
    cli = owner_cli
    key = cli.run("issue", "create", "--title", "Watch me").ok().json()["identifier"]

    added = cli.run("issue", "subscriber", "add", key, "--user", "mike").ok()
    assert added.json() == {"subscribed": True}
    assert f"Subscribed mike to issue {key}." in added.stderr
    me = cli.run("issue", "subscriber", "add", key).ok()
    assert f"Subscribed you to issue {key}." in me.stderr

    subs = cli.run("issue", "subscriber", "list", key, "--output", "json").ok().json()
    assert {(s["user_type"], s["user_id"]) for s in subs} >= {
        ("member", seed.member_id),
        ("member", seed.owner_id),
    }
    table = cli.run("issue", "subscriber", "list", key).ok().stdout
    assert table.splitlines()[0].split() == ["USER", "TYPE", "REASON", "CREATED"]
    assert "Mike Member" in table

    removed = cli.run("issue", "subscriber", "remove", key, "--user-id", seed.member_id).ok()
    assert removed.json() == {"subscribed": False}
    subs = cli.run("issue", "subscriber", "list", key, "--output", "json").ok().json()
    assert seed.member_id not in {s["user_id"] for s in subs}

    cli.run("issue", "subscriber", "add", key, "--user", "mike", "--user-id",
            seed.member_id).fails(5)  # fmt: skip
    cli.run("issue", "subscriber", "add", key, "--user", "nobody-at-all").fails(4)


def test_issue_usage_and_timeline(owner_cli):
    cli = owner_cli
    key = cli.run("issue", "create", "--title", "History").ok().json()["identifier"]
    usage = cli.run("issue", "usage", key, "--output", "json").ok().json()
    assert usage["task_count"] == 0
    assert usage["total_input_tokens"] == 0
    table = cli.run("issue", "usage", key).ok().stdout.splitlines()
    assert table[0].split()[:2] == ["INPUT", "TOKENS"]
    assert table[1].split() == ["0", "0", "0", "0", "0"]
    cli.run("issue", "usage", "NOPE-999").fails(4)

    cli.run("issue", "status", key, "in_progress").ok()
    cli.run("issue", "comment", "add", key, "--content", "picked it up").ok()

    entries = cli.run("issue", "timeline", key, "--output", "json").ok().json()
    assert [e["created_at"] for e in entries] == sorted(e["created_at"] for e in entries)
    assert {"activity", "comment"} <= {e["type"] for e in entries}
    changes = cli.run("issue", "timeline", key, "--action", "status_changed", "--output", "json")
    changes = changes.ok().json()
    assert len(changes) == 1
    assert changes[0]["details"] == {"from": "todo", "to": "in_progress"}
    activity = cli.run("issue", "history", key, "--activity-only", "--output", "json").ok().json()
    assert activity
    assert all(e["type"] == "activity" for e in activity)
    last = cli.run("issue", "timeline", key, "--tail", "1", "--output", "json").ok().json()
    assert last == entries[-1:]
    later = cli.run("issue", "timeline", key, "--since", "2999-01-01T00:00:00Z", "--output",
                    "json").ok().json()  # fmt: skip
    assert later == []

    table = cli.run("issue", "timeline", key).ok().stdout
    assert table.splitlines()[0].split() == ["TIME", "TYPE", "ACTOR", "DETAIL"]
    assert "todo → in_progress" in table
    assert "Olivia Owner" in table
    assert "picked it up" in table

    cli.run("issue", "timeline", key, "--since", "yesterday").fails(5)
    cli.run("issue", "timeline", key, "--tail", "-1").fails(5)
    cli.run("issue", "timeline", "NOPE-999").fails(4)


def test_projects(owner_cli, member_cli, seed):
    cli = owner_cli
    created = cli.run(
        "project", "create", "--title", "Roadmap", "--lead", "olivia", "--status", "planned",
        "--start-date", "2026-01-05", "--icon", "🚀",
    ).ok()  # fmt: skip
    project = created.json()
    pid = project["id"]
    assert (project["lead_type"], project["lead_id"]) == ("member", seed.owner_id)
    assert project["start_date"] == "2026-01-05"
    assert "Project Roadmap created." in created.stderr

    listed = cli.run("project", "list", "--output", "json").ok().json()
    assert [p["id"] for p in listed] == [pid]
    table = cli.run("project", "list").ok().stdout.splitlines()
    assert table[0].split() == ["ID", "TITLE", "STATUS", "LEAD", "CREATED"]
    assert table[1].startswith(pid[:8])
    assert "Olivia Owner" in table[1]
    assert cli.run("project", "list", "--status", "paused", "--output", "json").ok().json() == []

    assert cli.run("project", "get", pid[:8]).ok().json()["title"] == "Roadmap"
    fields = cli.run("project", "get", pid, "--output", "table").ok().stdout
    assert "Title:" in fields
    assert "Olivia Owner" in fields

    updated = cli.run("project", "update", pid[:6], "--title", "Roadmap 2026", "--start-date", "",
                      "--lead", "").ok().json()  # fmt: skip
    assert updated["title"] == "Roadmap 2026"
    assert updated["start_date"] is None
    assert updated["lead_id"] is None
    cli.run("project", "update", pid).fails(5)

    changed = cli.run("project", "status", pid, "in_progress").ok()
    assert changed.stdout == ""
    assert "Project Roadmap 2026 status changed to in_progress." in changed.stderr
    as_json = cli.run("project", "status", pid, "paused", "--output", "json").ok().json()
    assert as_json["status"] == "paused"
    cli.run("project", "status", pid, "someday").fails(5)
    cli.run("project", "create", "--title", "X", "--status", "someday").fails(5)

    issue = cli.run("issue", "create", "--title", "Filed", "--project", pid).ok().json()
    assert issue["project_id"] == pid
    member_cli.run("project", "delete", pid).fails(3)  # owners and admins only
    deleted = cli.run("project", "delete", pid[:8], "--output", "json").ok()
    assert deleted.json() == {"id": pid, "deleted": True}
    assert cli.run("issue", "get", issue["identifier"]).ok().json()["project_id"] is None
    cli.run("project", "get", pid).fails(4)
    cli.run("project", "get", "abcd").fails(4)  # no project with that prefix


def test_labels(owner_cli):
    cli = owner_cli
    created = cli.run("label", "create", "--name", "frontend", "--color", "3b82f6",
                      "--description", "UI work").ok()  # fmt: skip
    label = created.json()
    assert label["color"] == "#3b82f6"
    assert label["description"] == "UI work"
    assert "Label frontend created." in created.stderr

    listed = cli.run("label", "list", "--output", "json").ok().json()
    assert [lb["id"] for lb in listed] == [label["id"]]
    table = cli.run("label", "list").ok().stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "COLOR", "CREATED"]
    assert table[1].split()[:3] == [label["id"][:8], "frontend", "#3b82f6"]

    assert cli.run("label", "get", label["id"][:8]).ok().json()["name"] == "frontend"
    assert "Name:" in cli.run("label", "get", label["id"], "--output", "table").ok().stdout
    updated = cli.run("label", "update", label["id"], "--name", "ui", "--color", "#00ff00").ok()
    assert (updated.json()["name"], updated.json()["color"]) == ("ui", "#00ff00")
    cli.run("label", "update", label["id"]).fails(5)
    cli.run("label", "create", "--name", "bad", "--color", "red").fails(5)

    deleted = cli.run("label", "delete", label["id"][:8]).ok()
    assert deleted.json() == {"id": label["id"], "deleted": True}
    cli.run("label", "get", label["id"]).fails(4)


def test_workspace_create_update_and_members(owner_cli, member_cli, seed):
    cli = owner_cli
    created = cli.run(
        "workspace", "create", "--name", "Side Project", "--slug", "side-project",
        "--issue-prefix", "side", "--description", "line one\\nline two",
    ).ok()  # fmt: skip
    ws = created.json()
    assert (ws["slug"], ws["issue_prefix"]) == ("side-project", "SIDE")
    assert ws["description"] == "line one\nline two"
    assert "workspace use side-project" in created.stderr
    assert cli.config()["workspace_id"] == seed.workspace_id  # the default is unchanged
    slugs = {w["slug"] for w in cli.run("workspace", "list", "--output", "json").ok().json()}
    assert "side-project" in slugs

    updated = cli.run("workspace", "update", "side-project", "--name", "Side",
                      "--context-stdin", input="Be brief.\n").ok().json()  # fmt: skip
    assert (updated["name"], updated["context"]) == ("Side", "Be brief.\n")
    current = cli.run("workspace", "update", "--description", "the main one").ok().json()
    assert current["id"] == seed.workspace_id
    fields = cli.run("workspace", "get", "side-project", "--output", "table").ok().stdout
    assert "Context:" in fields
    cli.run("workspace", "update", "side-project").fails(5)
    cli.run("workspace", "update", "--description-stdin", "--context-stdin", "--name", "x",
            input="x").fails(5)  # fmt: skip
    cli.run("workspace", "create", "--name", "Dup", "--slug", "side-project").fails(1)  # 409
    member_cli.run("workspace", "update", "--name", "Mine now").fails(3)

    members = cli.run("workspace", "member", "list", "--output", "json").ok().json()
    assert {m["user_id"] for m in members} == {seed.owner_id, seed.member_id}
    table = cli.run("workspace", "member", "list").ok().stdout
    assert table.splitlines()[0].split() == ["USER", "ID", "NAME", "EMAIL", "ROLE"]
    assert "Mike Member" in table
    only_me = cli.run("workspace", "member", "list", "side-project", "--output", "json").ok()
    assert [m["user_id"] for m in only_me.json()] == [seed.owner_id]

    invited = cli.run("workspace", "member", "invite", "New.Person@Example.com", "--role",
                      "admin").ok()  # fmt: skip
    assert invited.stdout == ""
    assert "Invitation sent to new.person@example.com (role: admin" in invited.stderr
    as_json = cli.run("workspace", "member", "invite", "other@example.com", "side-project",
                      "--output", "json").ok().json()  # fmt: skip
    assert (as_json["invitee_email"], as_json["role"]) == ("other@example.com", "member")
    assert as_json["workspace_id"] == ws["id"]
    cli.run("workspace", "member", "invite", "x@example.com", "--role", "owner").fails(5)
    member_cli.run("workspace", "member", "invite", "y@example.com").fails(3)


def test_runtime_activity(owner_cli, seed):
    cli = owner_cli
    assert cli.run("runtime", "activity", seed.runtime_id, "--output", "json").ok().json() == []
    table = cli.run("runtime", "activity", seed.runtime_id[:8], "--tz", "Europe/Berlin").ok()
    assert table.stdout.split() == ["HOUR", "COUNT"]
    cli.run("runtime", "activity", UNKNOWN).fails(4)
