"""CSAT after a resolve (CONTRACT.md, operations surface).

When an agent resolves a conversation, a rating is asked for (a row in `handoff_csat`) and the
widget gets `{"type": "csat_request"}`, again after a reload while it is unanswered. The
widget sends `{"type": "csat", "score": 1..5, "comment"?}`; the answer is
`{"type": "csat", "status": "stored", "score", "message"}` (the thanks, in the user's
language), or an error frame: `invalid_score`, `comment_too_long`, `not_requested` (nothing to
rate), `already_rated`. The conversation JSON of the agent API carries the latest rating as
`csat: {"score", "comment", "at"}` (`repository.desk.agent_view`); `/metrics` has the
`bolt_csat_score` histogram.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from handoff.errors import BadRequest, HandoffError
from handoff.repository import desk
from handoff.state import CONFIG, DATABASE, HUB
from handoff.texts import language_of

TEXTS_FILE = Path(__file__).resolve().parent / "csat.yml"
SCORES = range(1, 6)
# A comment is a chat text: the same byte limit.


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def text(key: str, language: str | None) -> str:
    return _texts()[key][language_of(language)]


async def request_rating(app: web.Application, conversation: dict[str, Any], agent: str | None) -> None:
    """After a resolve: store the request and ask the user's widget (on any instance)."""
    if await app[DATABASE].write(desk.request_csat, conversation["id"], agent):
        await app[HUB].to_conversation(conversation["id"], {"type": "csat_request"})


async def pending_request(app: web.Application, conversation_id: str) -> bool:
    return await app[DATABASE].read(desk.csat_pending, conversation_id)


async def rate(app: web.Application, conversation_id: str | None, frame: dict[str, Any],
               language: str | None) -> dict[str, Any]:
    """The widget's `csat` frame; errors are HandoffErrors (error frames) in the user's language."""
    if conversation_id is None:
        raise HandoffError("send hello first", code="hello_required")
    score, comment = frame.get("score"), frame.get("comment")
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise BadRequest(text("invalid_score", language), code="invalid_score")
    if comment is not None and not isinstance(comment, str):
        raise BadRequest(text("invalid_score", language), code="invalid_comment")
    comment = (comment or "").strip() or None
    if comment and len(comment.encode("utf-8")) > app[CONFIG].max_text_bytes:
        raise BadRequest(text("comment_too_long", language), code="comment_too_long")
    try:
        stored = await app[DATABASE].write(desk.answer_csat, conversation_id, score, comment)
    except HandoffError as error:
        if error.code in ("not_requested", "already_rated"):
            raise HandoffError(text(error.code, language), code=error.code) from None
        raise
    await app[HUB].to_agents({"type": "csat", "conversation_id": conversation_id, "csat": stored})
    return {"type": "csat", "status": "stored", "score": stored["score"], "message": text("thanks", language)}
