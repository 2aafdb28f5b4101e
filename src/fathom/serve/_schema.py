"""Request bodies the server accepts, validated with pydantic, and the OpenAI error shape.

Covers ``POST /v1/chat/completions``: model, messages (text content or text parts), tools,
tool_choice (``"auto"``, ``"none"``, ``"required"`` or ``{"type": "function", "function": {"name"}}``,
checked against the tools), temperature, top_p, max_tokens / max_completion_tokens (at least 1), stop
(at most 4 strings of at most :data:`STOP_MAX_CHARS` characters), seed (a 64-bit integer), n (only 1),
stream and stream_options. Fields other OpenAI clients send (``user``, ``presence_penalty``,
``parallel_tool_calls``...) are accepted and ignored. Limits that depend on the server (body size,
context, the max_tokens cap) are checked by the app (:mod:`._app`), not here.
Not covered: images and audio in content, ``logprobs``, ``response_format``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = ["STOP_MAX_CHARS", "ApiError", "ChatCompletionBody", "openai_error"]

STOP_MAX_CHARS = 1000
"""Longest stop string accepted (streaming checks every ending of the text against each one)."""


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


class _FunctionName(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)


class _NamedToolChoice(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["function"]
    function: _FunctionName


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[_Message] = Field(min_length=1)
    tools: list[_Tool] | None = None
    tool_choice: Literal["auto", "none", "required"] | _NamedToolChoice | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), lt=2**63)
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None

    @field_validator("tool_choice", mode="before")
    @classmethod
    def _choice_kind(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict) or value in ("auto", "none", "required"):
            return value
        raise ValueError(f"tool_choice must be 'auto', 'none', 'required' or "
                         f"{{'type': 'function', 'function': {{'name': ...}}}}, got {value!r}")

    @field_validator("tool_choice")
    @classmethod
    def _choice_needs_tools(cls, value: Any, info: ValidationInfo) -> Any:
        tools = info.data.get("tools") or []
        names = [t.function.name for t in tools]
        if value == "required" and not names:
            raise ValueError("tool_choice 'required' needs tools; send tools or use 'auto'")
        if isinstance(value, _NamedToolChoice) and value.function.name not in names:
            listed = ", ".join(repr(n) for n in names) or "none were sent"
            raise ValueError(f"tool_choice names the function {value.function.name!r}, which is not among "
                             f"the tools ({listed}); add it to tools or use 'auto'")
        return value

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str]:
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop must be a non-empty string or a list of at most 4 non-empty strings")
        if any(len(s) > STOP_MAX_CHARS for s in stops):
            longest = max(len(s) for s in stops)
            raise ValueError(f"stop strings may be at most {STOP_MAX_CHARS} characters, got one of {longest}")
        return stops

    @model_validator(mode="after")
    def _one_limit(self) -> ChatCompletionBody:
        if self.max_tokens and self.max_completion_tokens and self.max_tokens != self.max_completion_tokens:
            raise ValueError("max_tokens and max_completion_tokens disagree; send one of them")
        return self

    def chat_messages(self) -> list[dict[str, Any]]:
        """The messages in the form backends take."""
        return [m.to_chat() for m in self.messages]

    @property
    def tools_on(self) -> bool:
        """Whether the model is shown tools (there are some and ``tool_choice`` is not ``"none"``)."""
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def forced_tool(self) -> str | None:
        """The function ``tool_choice`` names, if it names one."""
        return self.tool_choice.function.name if isinstance(self.tool_choice, _NamedToolChoice) else None

    def tool_dicts(self) -> list[dict[str, Any]] | None:
        """The tools as plain dicts (only the named one when ``tool_choice`` names a function), or None
        when there are none or ``tool_choice`` is ``"none"``."""
        if not self.tools or self.tool_choice == "none":
            return None
        forced = self.forced_tool
        return [t.model_dump(exclude_none=True) for t in self.tools if forced in (None, t.function.name)]

    def prompt_chars(self) -> int:
        """Characters of text in the messages and tools: a cheap bound on the prompt before tokenising."""
        texts = [str(m.get("content") or "") for m in self.chat_messages()]
        texts += [json.dumps(m["tool_calls"]) for m in self.chat_messages() if m.get("tool_calls")]
        return sum(map(len, texts)) + (len(json.dumps(self.tool_dicts())) if self.tool_dicts() else 0)


def openai_error(message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None) -> dict[str, Any]:
    """An error body in OpenAI's shape.

    >>> openai_error("bad", param="n")
    {'error': {'message': 'bad', 'type': 'invalid_request_error', 'param': 'n', 'code': None}}
    """
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class ApiError(Exception):
    """An HTTP error answered in OpenAI's shape; raise it anywhere in a request's handling.

    Args:
        status: the HTTP status.
        message: what was received, what is valid and what to do.
        type_: OpenAI's error type (``invalid_request_error``, ``server_error``...).
        param: the request field at fault, if one is.
        code: a machine-readable code (``context_length_exceeded``...).
        headers: extra response headers (``Retry-After``...).
    """

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.body = openai_error(message, type_=type_, param=param, code=code)
        self.headers = headers or {}
