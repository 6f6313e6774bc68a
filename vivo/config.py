"""Settings of the vivo client: where vivo lives, how to authenticate, how long to wait, how to retry.

Settings are passed in (never read from a global). :meth:`VivoSettings.from_env` is the one place that
reads the environment, meant to be called inside a replica's ``__init__``, not at import time.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from vivo.errors import NOT_CONFIGURED_MESSAGE, VivoNotConfigured

AuthMode = Literal["hmac", "bearer"]
DEFAULT_BASE_URL = "https://api-ai.vivo.com.cn"
# The LASR user id every official sample and the Go SDK send (§6.1): 32 chars of [0-9a-z].
DEFAULT_LASR_USER_ID = "2addc42b7ae689dfdf1c63e220df52a2"


class Credentials(NamedTuple):
    """An app id and app key pair. ``repr`` hides the key so it never lands in a log."""

    app_id: str
    app_key: str

    def __repr__(self) -> str:
        return f"Credentials(app_id={self.app_id!r}, app_key='***')"


@dataclass(frozen=True)
class VivoSettings:
    """Everything the client needs to talk to vivo; the app key never appears in ``repr``."""

    app_id: str = ""
    app_key: str = field(default="", repr=False)
    base_url: str = DEFAULT_BASE_URL
    auth: AuthMode = "hmac"
    #: Per-request read/write budget; a chat answer or an OCR of a big image can take a while.
    timeout_s: float = 60.0
    #: Reaching vivo should be quick; failing fast lets the gateway answer 503 instead of hanging.
    connect_timeout_s: float = 5.0
    #: Extra attempts on safe-to-retry failures (see ``VivoClient``); 0 disables retrying.
    max_retries: int = 2
    #: First backoff delay; doubles per attempt (with jitter) up to ``backoff_max_s``.
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    #: Size of the connection pool shared by all concurrent calls of one replica.
    max_connections: int = 32
    #: LASR ``user_id`` query parameter (32 chars ``[0-9a-z]``).
    lasr_user_id: str = DEFAULT_LASR_USER_ID

    def __post_init__(self) -> None:
        if self.auth not in ("hmac", "bearer"):
            raise ValueError(f"auth must be 'hmac' or 'bearer', not {self.auth!r}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, not {self.base_url!r}")
        if self.max_retries < 0 or self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("timeouts must be positive and max_retries non-negative")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return f"VivoSettings({shown}, app_key={'***' if self.app_key else ''!r})"

    @property
    def configured(self) -> bool:
        """True when both an app id and an app key are set."""
        return bool(self.app_id and self.app_key)

    @property
    def ws_base_url(self) -> str:
        """``base_url`` with the scheme switched to its WebSocket twin (http→ws, https→wss)."""
        if self.base_url.startswith("https://"):
            return "wss://" + self.base_url[len("https://") :]
        return "ws://" + self.base_url[len("http://") :]

    def credentials(self, override: tuple[str, str] | None = None) -> Credentials:
        """The credentials for one call: a complete per-call override wins over the settings.

        Raises :class:`VivoNotConfigured` when neither provides both an id and a key.
        """
        if override is not None and override[0] and override[1]:
            return Credentials(override[0], override[1])
        if not self.configured:
            raise VivoNotConfigured(NOT_CONFIGURED_MESSAGE)
        return Credentials(self.app_id, self.app_key)

    @classmethod
    def from_env(cls, **overrides: Any) -> VivoSettings:
        """Build settings from ``APPID``, ``APPKEY``, ``VIVO_BASE_URL`` and ``VIVO_AUTH``.

        The environment wins over config (the old service's rule for the credentials, and what lets
        a deployment be pointed at an emulator), so the matching keyword arguments are only
        fallbacks; every other override is applied as given. ``None`` overrides mean "default", so
        optional config fields can be passed straight through.
        """
        values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        env_names = {"app_id": "APPID", "app_key": "APPKEY", "base_url": "VIVO_BASE_URL", "auth": "VIVO_AUTH"}
        for name, var in env_names.items():
            value = os.environ.get(var, "").strip()
            if value:
                values[name] = value.lower() if name == "auth" else value
        return cls(**values)
