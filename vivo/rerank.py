"""Text similarity / rerank (§9.1), used to score a user's translation against a reference.

vivo returns one raw relevance score per sentence (a logit, not normalised: about -10…10).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from vivo.errors import VivoBadRequest, VivoUpstreamError
from vivo.transport import VivoTransport

RERANK_PATH = "/rerank"
DEFAULT_RERANK_MODEL = "bge-reranker-large"
RERANK_MODELS = frozenset({"bge-reranker-large", "bge-reranker-v2-m3"})
MAX_PAIR_CHARS = 500


async def rerank(
    transport: VivoTransport,
    query: str,
    sentences: Sequence[str],
    *,
    model: str = DEFAULT_RERANK_MODEL,
    credentials: tuple[str, str] | None = None,
) -> list[float]:
    """Score each sentence against ``query``; the list is in the order of ``sentences``."""
    if model not in RERANK_MODELS:
        raise VivoBadRequest(f"unknown rerank model {model!r}; use one of {sorted(RERANK_MODELS)}")
    if not query.strip() or not sentences:
        raise VivoBadRequest("rerank needs a query and at least one sentence")
    too_long = [s for s in sentences if len(query) + len(s) > MAX_PAIR_CHARS]
    if too_long:
        raise VivoBadRequest(f"query plus sentence must be at most {MAX_PAIR_CHARS} characters")
    params = {"requestId": str(uuid.uuid4())} if transport.settings.auth == "bearer" else None
    answer = await transport.request_json(
        RERANK_PATH,
        params=params,
        json={"model_name": model, "query": query, "sentences": list(sentences)},
        credentials=credentials,
        message_keys=("msg", "message"),
    )
    scores = answer.get("data")
    if not isinstance(scores, list) or len(scores) != len(sentences):
        raise VivoUpstreamError("vivo rerank answered without one score per sentence")
    return [float(s) for s in scores]
