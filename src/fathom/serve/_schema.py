"""Request bodies the server accepts, validated with pydantic, and the OpenAI error shape.

Covers ``POST /v1/chat/completions``: model, messages (text content or text parts), tools,
tool_choice (``"auto"``/``"none"``), temperature, top_p, max_tokens / max_completion_tokens, stop,
seed, n (only 1), stream and stream_options. Fields other OpenAI clients send (``user``,
``presence_penalty``...) are accepted and ignored.
Not covered: images and audio in content, ``logprobs``, ``response_format``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["ChatCompletionBody", "openai_error"]


class _Function(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class _Tool(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["function"]
    function: _Function


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @field_validator("content")
    @classmethod
    def _text_parts_only(cls, value: Any) -> Any:
        if isinstance(value, list):
            kinds = sorted({str(part.get("type")) for part in value if part.get("type") != "text"})
            if kinds:
                raise ValueError(f"only text content parts are supported, got {', '.join(kinds)}")
        return value

    def to_chat(self) -> dict[str, Any]:
        """The message as Fathom passes it to a backend (text parts joined, developer -> system)."""
        content = self.content
        if isinstance(content, list):
            content = "".join(str(part.get("text", "")) for part in content)
        out: dict[str, Any] = {"role": "system" if self.role == "developer" else self.role, "content": content}
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[_Message] = Field(min_length=1)
    tools: list[_Tool] | None = None
    tool_choice: Literal["auto", "none"] | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str]:
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop must be a non-empty string or a list of at most 4 non-empty strings")
        return stops

    @model_validator(mode="after")
    def _one_limit(self) -> ChatCompletionBody:
        if self.max_tokens and self.max_completion_tokens and self.max_tokens != self.max_completion_tokens:
            raise ValueError("max_tokens and max_completion_tokens disagree; send one of them")
        return self

    def chat_messages(self) -> list[dict[str, Any]]:
        """The messages in the form backends take."""
        return [m.to_chat() for m in self.messages]

    def tool_dicts(self) -> list[dict[str, Any]] | None:
        """The tools as plain dicts, or None when there are none or ``tool_choice`` is ``"none"``."""
        if not self.tools or self.tool_choice == "none":
            return None
        return [t.model_dump(exclude_none=True) for t in self.tools]


def openai_error(message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None) -> dict[str, Any]:
    """An error body in OpenAI's shape.

    >>> openai_error("bad", param="n")
    {'error': {'message': 'bad', 'type': 'invalid_request_error', 'param': 'n', 'code': None}}
    """
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
