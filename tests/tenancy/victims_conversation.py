"""Victim objects for the comment, timeline, subscriber and inbox routes (see
test_cross_workspace): a victim issue with a comment (reacted to, resolved), a subscriber and
an inbox item for the victim's member."""

from __future__ import annotations

from issues.models import Comment, CommentReaction, InboxItem, Issue, IssueSubscriber


def victims(victim) -> dict:
    ws = victim.workspace
    # A number clear of the other areas' victim issues and of the workspace counter.
    issue = Issue.objects.create(
        workspace=ws,
        number=900_101,
        title="Victim issue with a conversation",
        creator_type="member",
        creator_id=victim.owner.id,
        status="todo",
    )
    comment = Comment.objects.create(
        workspace=ws,
        issue=issue,
        author_type="member",
        author_id=victim.owner.id,
        content="victim comment",
    )
    CommentReaction.objects.create(
        workspace=ws, comment=comment, actor_type="member", actor_id=victim.owner.id, emoji="👍"
    )
    IssueSubscriber.objects.create(
        workspace=ws, issue=issue, user_type="member", user_id=victim.owner.id, reason="creator"
    )
    item = InboxItem.objects.create(
        workspace=ws,
        recipient_id=victim.member.id,
        type="new_comment",
        issue=issue,
        title=issue.title,
        details={"comment_id": str(comment.id)},
    )
    return {"issue_id": issue.id, "comment_id": comment.id, "inbox_item_id": item.id}
