"""The error vocabulary: codes, statuses, vivo-code mapping, pickling, no secrets."""

from __future__ import annotations

import pickle

import pytest

from vivo.errors import (
    VivoAuthError,
    VivoBadRequest,
    VivoError,
    VivoModerationError,
    VivoNotConfigured,
    VivoQuotaExceeded,
    VivoRateLimited,
    VivoUnavailable,
    VivoUpstreamError,
    error_from_code,
    error_from_http,
    redact,
)

pytestmark = pytest.mark.unit

ALL = [
    (VivoAuthError, "vivo_auth_failed", 502),
    (VivoQuotaExceeded, "vivo_quota_exceeded", 503),
    (VivoRateLimited, "vivo_rate_limited", 503),
    (VivoModerationError, "vivo_content_rejected", 422),
    (VivoBadRequest, "vivo_bad_request", 400),
    (VivoUpstreamError, "vivo_upstream_error", 502),
    (VivoUnavailable, "vivo_unavailable", 503),
    (VivoNotConfigured, "vivo_not_configured", 503),
]


@pytest.mark.parametrize(("cls", "code", "status"), ALL)
def test_codes_statuses_and_pickling(cls, code, status):
    error = cls("something went wrong")
    error.vivo_code = 123
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is cls and isinstance(clone, VivoError)
    assert (clone.code, clone.status, clone.message, clone.vivo_code) == (
        code,
        status,
        "something went wrong",
        123,
    )


def test_retry_after_for_503s():
    assert VivoRateLimited.retry_after and VivoUnavailable.retry_after and VivoQuotaExceeded.retry_after
    assert VivoBadRequest.retry_after is None


@pytest.mark.parametrize(
    ("code", "msg", "cls"),
    [
        (2003, "today usage limit", VivoQuotaExceeded),
        (30001, "hit model rate limit", VivoRateLimited),
        (30001, "no model access permission", VivoAuthError),
        (11001, "overload", VivoRateLimited),
        (429, "429", VivoRateLimited),
        (1007, "抱歉，当前输入的内容我无法处理。", VivoModerationError),
        (1001, "param 'requestId' can't be empty", VivoBadRequest),
        (20000, "parameter error", VivoBadRequest),
        (10001, "create params invalid", VivoBadRequest),
        (2001, "permission expires", VivoAuthError),
        (10012, "signature error", VivoAuthError),
        (10000, "server error", VivoUpstreamError),
        (10402, "whatever", VivoUpstreamError),
    ],
)
def test_business_codes(code, msg, cls):
    error = error_from_code(code, msg)
    assert type(error) is cls
    assert error.vivo_code == code
    assert msg in error.message and str(code) in error.message


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"message": "invalid api-key"}, VivoAuthError),
        (403, {"message": "not having this ability"}, VivoAuthError),
        (429, {}, VivoRateLimited),
        (500, "boom", VivoUnavailable),
        (503, {}, VivoUnavailable),
        (400, {"msg": "bad"}, VivoBadRequest),
        (404, {}, VivoUpstreamError),
        (400, {"code": 2003, "msg": "today usage limit"}, VivoQuotaExceeded),
    ],
)
def test_http_statuses(status, body, cls):
    assert type(error_from_http(status, body)) is cls


def test_auth_message_is_actionable():
    assert "invalid api-key" in error_from_http(401, {"message": "invalid api-key"}).message


def test_redact_removes_every_secret_occurrence():
    assert redact("key=abc123 again abc123", "abc123", None, "") == "key=*** again ***"
