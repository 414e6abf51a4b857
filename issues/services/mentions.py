"""Mentions in markdown: ``[@Label](mention://<type>/<id>)`` (spec §3.5).

``mentions_parse`` mirrors Multica's ``util.ParseMentions`` (the ``@`` is optional so issue
links ``[MUL-1](mention://issue/…)`` parse too; labels may contain brackets), and goes further:
an id that is not a UUID is dropped, ids are canonicalised before de-duplication, and
``mentions_in_workspace`` drops targets that do not belong to the workspace, so a foreign id
in a comment is never stored nor notified.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps

from issues.models import Comment, CommentMention, Issue
from issues.selectors_conversation import AGENT_MODEL
from workspaces.context import WorkspaceContext
from workspaces.models import Member

MENTION_RE = re.compile(
    r"\[@?(.+?)\]\(mention://(member|agent|squad|issue|all)/([0-9a-fA-F-]+|all)\)"
)
MENTION_TYPES = ("member", "agent", "squad", "issue", "all")
LABEL_MAX = 255

# Where agent and squad ids live, by ``app_label.ModelName``; a model that does not exist yet
# (its domain is not built) means no id of that type can be validated, so none is kept.
TARGET_MODELS: dict[str, str] = {"agent": AGENT_MODEL, "squad": "agents.Squad"}


@dataclass(frozen=True)
class Mention:
    type: str  # member | agent | squad | issue | all
    id: uuid.UUID | None  # None for @all
    label: str = ""

    @property
    def key(self) -> tuple[str, uuid.UUID | None]:
        return (self.type, self.id)

    @property
    def is_all(self) -> bool:
        return self.type == "all"


def mentions_parse(content: str | None) -> list[Mention]:
    """Every well-formed mention of ``content`` in order of appearance, de-duplicated."""
    if not content:
        return []
    seen: set[tuple[str, uuid.UUID | None]] = set()
    out: list[Mention] = []
    for match in MENTION_RE.finditer(content):
        label, kind, raw_id = match.group(1), match.group(2), match.group(3)
        if kind == "all":
            target: uuid.UUID | None = None
        else:
            try:
                target = uuid.UUID(raw_id)
            except ValueError:
                continue  # "mention://member/all", truncated ids…
        mention = Mention(type=kind, id=target, label=label[:LABEL_MAX])
        if mention.key in seen:
            continue
        seen.add(mention.key)
        out.append(mention)
    return out


def _known_ids(workspace_id: uuid.UUID, kind: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    if kind == "member":
        rows = Member.objects.filter(workspace_id=workspace_id, user_id__in=ids)
        return set(rows.values_list("user_id", flat=True))
    if kind == "issue":
        rows = Issue.objects.filter(workspace_id=workspace_id, id__in=ids)
        return set(rows.values_list("id", flat=True))
    label = TARGET_MODELS.get(kind)
    if label is None:
        return set()
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return set()
    return set(
        model.objects.filter(workspace_id=workspace_id, id__in=ids).values_list("id", flat=True)
    )


def mentions_in_workspace(*, workspace_id: uuid.UUID, mentions: Iterable[Mention]) -> list[Mention]:
    """Keep ``@all`` and the mentions whose target belongs to the workspace (one query per
    target type present)."""
    mentions = list(mentions)
    by_kind: dict[str, set[uuid.UUID]] = {}
    for m in mentions:
        if m.id is not None:
            by_kind.setdefault(m.type, set()).add(m.id)
    known = {kind: _known_ids(workspace_id, kind, ids) for kind, ids in by_kind.items()}
    return [m for m in mentions if m.is_all or m.id in known.get(m.type, set())]


def mentions_resolve(*, workspace_id: uuid.UUID, content: str | None) -> list[Mention]:
    return mentions_in_workspace(workspace_id=workspace_id, mentions=mentions_parse(content))


def comment_mentions_replace(*, ctx: WorkspaceContext, comment: Comment) -> list[Mention]:
    """Re-derive the stored mentions of ``comment`` from its content (create and edit)."""
    mentions = mentions_resolve(workspace_id=ctx.workspace_id, content=comment.content)
    CommentMention.objects.filter(workspace_id=ctx.workspace_id, comment=comment).delete()
    CommentMention.objects.bulk_create(
        [
            CommentMention(
                workspace_id=ctx.workspace_id,
                comment=comment,
                target_type=m.type,
                target_id=m.id,
                label=m.label,
            )
            for m in mentions
        ]
    )
    return mentions
