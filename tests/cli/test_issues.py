"""``multica issue …`` against the live server: the whole life of an issue, with identifiers."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_issue_lifecycle(owner_cli, seed, tmp_path):
    cli = owner_cli
    created = cli.run(
        "issue", "create", "--title", "Fix the flux capacitor",
        "--description", "line one\\nline two", "--priority", "high",
    ).ok()  # fmt: skip
    issue = created.json()
    key = issue["identifier"]
    assert key == f"{seed.issue_prefix}-1"
    assert issue["description"] == "line one\nline two"
    assert issue["priority"] == "high"
    assert f"Issue {key} created." in created.stderr

    # get by identifier (lower case too) and by UUID
    assert cli.run("issue", "get", key).ok().json()["id"] == issue["id"]
    assert cli.run("issue", "get", key.lower()).ok().json()["id"] == issue["id"]
    assert cli.run("issue", "get", issue["id"]).ok().json()["identifier"] == key
    table = cli.run("issue", "get", key, "--output", "table").ok().stdout
    assert "Fix the flux capacitor" in table
    assert "Key:" in table

    # a description from stdin and from a file, verbatim
    body = "keep \\n literally\nand a second line\n"
    updated = cli.run("issue", "update", key, "--description-stdin", input=body).ok().json()
    assert updated["description"] == body
    (tmp_path / "home").mkdir(exist_ok=True)
    desc = cli.home / "desc.md"
    desc.write_text("from a file")
    updated = cli.run("issue", "update", key, "--description-file", str(desc),
                      "--title", "Fix it properly").ok().json()  # fmt: skip
    assert updated["description"] == "from a file"
    assert updated["title"] == "Fix it properly"
    cli.run("issue", "update", key).fails(5)  # nothing to update

    # status
    changed = cli.run("issue", "status", key, "in_progress").ok()
    assert changed.stdout == ""
    assert f"Issue {key} status changed to in_progress." in changed.stderr
    as_json = cli.run("issue", "status", key, "in_review", "--output", "json").ok().json()
    assert as_json["status"] == "in_review"

    # assign by name (fuzzy), by e-mail, by id; unassign
    assigned = cli.run("issue", "assign", key, "--to", "mike").ok()
    assert assigned.json()["assignee_id"] == seed.member_id
    assert assigned.json()["assignee_type"] == "member"
    assert "assigned to mike" in assigned.stderr
    cli.run("issue", "assign", key, "--to", "cli-owner@example.com").ok()
    assert cli.run("issue", "get", key).json()["assignee_id"] == seed.owner_id
    cli.run("issue", "assign", key, "--to-id", seed.member_id).ok()
    assert "Mike Member" in cli.run("issue", "get", key, "--output", "table").ok().stdout
    cli.run("issue", "assign", key, "--to", "nobody-like-this").fails(4)
    cli.run("issue", "assign", key).fails(5)
    unassigned = cli.run("issue", "assign", key, "--unassign").ok().json()
    assert unassigned["assignee_id"] is None

    # list: table by default, json on request, filters
    cli.run("issue", "create", "--title", "Second one", "--assignee", "Olivia").ok()
    table = cli.run("issue", "list").ok().stdout.splitlines()
    assert table[0].split()[:4] == ["KEY", "TITLE", "STATUS", "PRIORITY"]
    assert any(line.startswith(key) for line in table[1:])
    assert any("Olivia Owner" in line for line in table[1:])
    listed = cli.run("issue", "list", "--output", "json").ok().json()
    assert listed["total"] == 2
    assert listed["has_more"] is False
    assert {i["identifier"] for i in listed["issues"]} == {key, f"{seed.issue_prefix}-2"}
    filtered = cli.run("issue", "list", "--status", "in_review", "--output", "json").ok().json()
    assert [i["identifier"] for i in filtered["issues"]] == [key]
    mine = cli.run("issue", "list", "--assignee", "olivia", "--output", "json").ok().json()
    assert [i["title"] for i in mine["issues"]] == ["Second one"]
    page = cli.run("issue", "list", "--limit", "1", "--output", "json").ok().json()
    assert len(page["issues"]) == 1
    assert page["has_more"] is True

    # search
    found = cli.run("issue", "search", "capacitor", "--output", "json").ok().json()
    assert [i["identifier"] for i in found["issues"]] == []  # the title changed
    found = cli.run("issue", "search", "properly", "--output", "json").ok().json()
    assert [i["identifier"] for i in found["issues"]] == [key]
    assert "properly" in cli.run("issue", "search", "properly").ok().stdout


def test_comments(owner_cli, member_cli, seed):
    issue = owner_cli.run("issue", "create", "--title", "Discuss").ok().json()
    key = issue["identifier"]
    root = owner_cli.run("issue", "comment", "add", key, "--content", "first\\nthought").ok()
    root_comment = root.json()
    assert root_comment["content"] == "first\nthought"
    assert f"Comment added to issue {key}." in root.stderr
    reply = member_cli.run(
        "issue", "comment", "add", key, "--parent", root_comment["id"], "--content-stdin",
        input="a reply\nover lines",
    ).ok().json()  # fmt: skip
    assert reply["parent_id"] == root_comment["id"]
    assert reply["author_id"] == seed.member_id

    listed = owner_cli.run("issue", "comment", "list", key, "--output", "json").ok().json()
    assert [c["id"] for c in listed] == [root_comment["id"], reply["id"]]
    roots = owner_cli.run("issue", "comment", "list", key, "--roots-only", "--output", "json")
    assert [c["id"] for c in roots.ok().json()] == [root_comment["id"]]
    table = owner_cli.run("issue", "comment", "list", key).ok().stdout
    assert "Olivia Owner" in table
    assert "Mike Member" in table
    assert table.splitlines()[0].split() == ["ID", "PARENT", "AUTHOR", "TYPE", "CONTENT", "CREATED"]
    compact = owner_cli.run("issue", "comment", "list", key, "--compact", "--output", "json")
    assert all("issue_id" not in c for c in compact.ok().json())
    owner_cli.run("issue", "comment", "add", key).fails(5)
    owner_cli.run("issue", "comment", "list", key, "--tail", "3").fails(5)
    owner_cli.run("issue", "comment", "list", f"{seed.issue_prefix}-404").fails(4)


def test_sub_issues(owner_cli):
    parent = owner_cli.run("issue", "create", "--title", "Epic").ok().json()
    child = owner_cli.run("issue", "create", "--title", "Part one", "--parent",
                          parent["identifier"]).ok().json()  # fmt: skip
    assert child["parent_issue_id"] == parent["id"]
    children = owner_cli.run("issue", "children", parent["identifier"], "--output", "json")
    assert [i["id"] for i in children.ok().json()["issues"]] == [child["id"]]
    assert "Part one" in owner_cli.run("issue", "children", parent["identifier"]).ok().stdout
    detached = owner_cli.run("issue", "update", child["identifier"], "--parent", "").ok().json()
    assert detached["parent_issue_id"] is None


def test_issue_of_another_workspace_is_not_found(owner_cli, seed):
    key = owner_cli.run("issue", "create", "--title", "Mine").ok().json()["identifier"]
    other = owner_cli.run("--workspace-id", seed.other_workspace_id, "issue", "get", key)
    other.fails(4)
