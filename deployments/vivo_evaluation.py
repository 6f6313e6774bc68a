"""Scoring a learner's translation (``POST /translate/evaluate``): no Ray, no I/O, unit-tested.

Two signals are combined: vivo's reranker relevance of the user's translation to the reference
(a raw logit, mapped to 0-100 with a sigmoid), and a BlueLM critique asked to answer in labelled
lines (overall, grammar, accuracy, fluency, advice). The critique is parsed leniently (Chinese or
English labels, full- or half-width colons, "85分", "85/100", or a JSON object). When scores are
missing the similarity score stands in and the result says so (``fallback: true``), instead of the
old gateway's silent fixed 85/85/80.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

SIMILARITY_WEIGHT = 0.3
SYSTEM_PROMPT = (
    "你是一名专业的翻译老师。请严格按照以下格式逐行回答，分数为0到100的整数：\n"
    "总体评价：<一句话>\n语法分数：<分数>\n准确性分数：<分数>\n流畅性分数：<分数>\n改进建议：<建议>"
)
_SCORES = {
    "grammar": ("语法", "grammar"),
    "accuracy": ("准确", "accuracy"),
    "fluency": ("流畅", "fluency"),
}
_SUMMARY = ("总体评价", "总评", "overall", "summary")
_ADVICE = ("改进建议", "建议", "advice", "suggestion", "improvement")
_NUMBER = r"(\d{1,3}(?:\.\d+)?)\s*(?:分|points?|/\s*100|％|%)?"
_LEVELS = ((90, "优秀"), (80, "良好"), (70, "中等"), (60, "及格"), (0, "需要改进"))


@dataclass
class Critique:
    """What could be read from the chat reply; ``None`` where it said nothing usable."""

    summary: str = ""
    advice: str = ""
    scores: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(_SCORES))


def build_prompt(
    original: str, user: str, reference: str, source: str | None, target: str | None, context: str | None
) -> str:
    """The user prompt sent to BlueLM (the system prompt fixes the answer format)."""
    lines = [
        f"原文（{source or '未指定'}）：{original}",
        f"学生译文（{target or '未指定'}）：{user}",
        f"参考译文：{reference}",
    ]
    if context:
        lines.append(f"语境：{context}")
    lines.append("请评价学生译文。")
    return "\n".join(lines)


def parse_critique(reply: str) -> Critique:
    """Read the labelled lines (or a JSON object) out of a free-form chat reply."""
    found = _parse_json(reply)
    if found is not None:
        return found
    critique = Critique()
    for raw in reply.splitlines():
        line = raw.strip().lstrip("-*#•· ").replace("**", "")
        label, sep, value = _split_label(line)
        if not sep:
            continue
        lowered = label.lower()
        for name, words in _SCORES.items():
            if critique.scores[name] is None and any(w in lowered for w in words):
                critique.scores[name] = _score(value)
        if not critique.summary and any(w in lowered for w in _SUMMARY):
            critique.summary = value.strip()
        if not critique.advice and any(w in lowered for w in _ADVICE):
            critique.advice = value.strip()
    return critique


def _split_label(line: str) -> tuple[str, str, str]:
    match = re.match(r"^([^:：]{1,24})\s*([:：])\s*(.*)$", line)
    return (match.group(1), match.group(2), match.group(3)) if match else ("", "", "")


def _score(value: str) -> float | None:
    match = re.match(r"^\s*" + _NUMBER, value)
    if not match:
        return None
    number = float(match.group(1))
    return number if 0 <= number <= 100 else None


def _parse_json(reply: str) -> Critique | None:
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(reply[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    critique = Critique(
        summary=str(data.get("summary") or data.get("overall") or ""),
        advice=str(data.get("advice") or data.get("suggestions") or ""),
    )
    for name in _SCORES:
        value = data.get(f"{name}_score", data.get(name))
        critique.scores[name] = _score(str(value)) if value is not None else None
    return critique


def similarity_score(logit: float) -> float:
    """The reranker's raw relevance logit as 0-100 (sigmoid)."""
    return round(100.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit)))), 1)


def level(score: float) -> str:
    return next(name for floor, name in _LEVELS if score >= floor)


def evaluation(logit: float, reply: str) -> dict[str, Any]:
    """The response body (besides ``success``/``message``/``timestamp``) from both signals."""
    similarity = similarity_score(logit)
    critique = parse_critique(reply)
    parsed = {k: v for k, v in critique.scores.items() if v is not None}
    fallback = len(parsed) < len(_SCORES)
    filled = {k: parsed.get(k, similarity) for k in _SCORES}
    ai_mean = sum(filled.values()) / len(filled)
    score = similarity if not parsed else SIMILARITY_WEIGHT * similarity + (1 - SIMILARITY_WEIGHT) * ai_mean
    score = round(score, 1)
    advice = [a.strip() for a in re.split(r"[；;\n]", critique.advice) if a.strip()]
    strengths = [f"{name} {value:g}/100" for name, value in parsed.items() if value >= 80]
    summary = critique.summary or f"与参考译文的相似度为 {similarity:g}/100。"
    return {
        "data": {
            "score": score,
            "level": level(score),
            "feedback": summary,
            "improvements": advice,
            "strengths": strengths,
        },
        "similarity": {
            "score": similarity,
            "raw": logit,
            "method": "bge-reranker-large",
            "explanation": "Reranker relevance of the translation to the reference, mapped to 0-100.",
        },
        "ai_evaluation": {
            "summary": critique.summary,
            "grammar_score": filled["grammar"],
            "accuracy_score": filled["accuracy"],
            "fluency_score": filled["fluency"],
            "detailed_advice": critique.advice,
            "fallback": fallback,
            "raw_reply": reply[:2000],
        },
    }
