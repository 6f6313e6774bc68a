"""HTTP request and response models of the vivo BlueLM routes (shapes of the old AuraLab gateway).

Request models accept the optional ``app_id``/``app_key`` the old app sends; they are used to sign
that one call and are never logged or echoed (``repr`` hides the key). Response models declare
their fields in alphabetical order where the old Go gateway answered with a sorted ``gin.H`` map.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _VivoRequest(BaseModel):
    """Fields every vivo route accepts: the caller's own vivo account, optionally."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    app_id: str | None = Field(None, max_length=128, description="The caller's vivo app id (optional).")
    app_key: str | None = Field(
        None, max_length=256, repr=False, description="The caller's vivo app key (optional, never echoed)."
    )

    def credentials(self) -> tuple[str, str] | None:
        """The per-request credentials, when both parts are given (the old gateway's rule)."""
        if self.app_id and self.app_key:
            return (self.app_id.strip(), self.app_key.strip())
        return None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant", "system", "function"]
    content: str


class TTSRequest(_VivoRequest):
    """``POST /bluelm/tts``: the old app sends ``{mode, text, vcn}``."""

    text: str = Field("", description="Text to speak.")
    mode: str | None = Field(
        None, description="short, long, human (default) or replica; or a vivo engine id."
    )
    vcn: str | None = Field(None, description="Voice; default per mode (human: M24).")
    speed: int | None = Field(None, ge=0, le=100, description="0-100, vivo's default when omitted.")
    volume: int | None = Field(None, ge=1, le=100, description="1-100, vivo's default when omitted.")
    stream: bool = Field(False, description="Stream the WAV as it is synthesized (also ?stream=true).")


class ChatRequest(_VivoRequest):
    """``POST /bluelm/chat``."""

    message: str = ""
    session_id: str | None = Field(None, max_length=128)
    history_messages: list[ChatMessage] = Field(default_factory=list, max_length=100)


class ChatData(BaseModel):
    messages: list[ChatMessage]
    reply: str
    role: str = "assistant"


class ChatResponse(BaseModel):
    """The old gateway's chat answer; keys in the sorted order Go's map encoding produced."""

    data: ChatData
    message: str = "Chat completed successfully"
    session_id: str
    success: bool = True
    timestamp: str


class TranslateRequest(_VivoRequest):
    """``POST /translate``: ``{"from": "en", "to": "zh", "text": "..."}``."""

    source: str = Field(..., alias="from", min_length=1, max_length=16)
    target: str = Field(..., alias="to", min_length=1, max_length=16)
    text: str


class TranslateResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    success: bool = True
    translation: str
    message: str
    source: str = Field(..., serialization_alias="from")
    target: str = Field(..., serialization_alias="to")
    original_text: str


class EvaluateRequest(_VivoRequest):
    """``POST /translate/evaluate``."""

    original_text: str = Field(..., min_length=1)
    user_translation: str = Field(..., min_length=1)
    standard_answer: str = Field(..., min_length=1)
    source_language: str | None = Field(None, max_length=16)
    target_language: str | None = Field(None, max_length=16)
    context: str | None = None


class OCRRequest(_VivoRequest):
    """``POST /ocr``: a base64 image (a ``data:image/...;base64,`` prefix is tolerated)."""

    image: str = Field(..., min_length=1)
    mode: int = Field(0, description="0 text; 1 text with pixel corners; 2 text with relative corners.")

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_is_int(cls, value: Any) -> Any:
        if isinstance(value, bool):  # True is an int in Python; not a mode
            raise ValueError("mode must be 0, 1 or 2")
        return value


class OCRLine(BaseModel):
    text: str
    location: dict[str, dict[str, float]] | None = None


class OCRData(BaseModel):
    """The same lower-case shape for every mode (the old gateway changed shape per mode).

    ``text``: all lines joined by newlines; ``lines``: each line with ``location`` (corners
    ``top_left``/``top_right``/``down_left``/``down_right`` as ``{x, y}``; absolute pixels in mode 1,
    relative 0-1 in mode 2, null in mode 0); ``angle``: text rotation (0/90/180/270); ``word``: the
    same as ``text``, the key the AuraLab app reads.
    """

    mode: int
    text: str
    lines: list[OCRLine]
    angle: int = 0
    word: str


class OCRResponse(BaseModel):
    success: bool = True
    message: str = "OCR识别成功"
    data: OCRData


class BlueLMTaskInfo(BaseModel):
    """The old gateway's ``TaskInfo`` (field order kept) plus progress and, on failure, the error."""

    task_id: str
    status: str
    message: str
    created_at: str
    filename: str
    progress: int = 0
    updated_at: str | None = None
    error: str | None = None
    error_code: str | None = None
