"""``tool_choice`` beyond ``"auto"``: checking that a completion obeys ``"required"`` or a named function.

Open models are not constrained to call a tool, so the app checks the completion and, when it holds
no (matching) call, asks once more with a nudge: one line added to the system message. When the
second answer does not obey either, the request fails with a 422 naming what the model wrote (the
app does not hand back an answer the client said it could not use).

Not covered: constrained decoding (grammars) that would make the call certain.
"""

from __future__ import annotations

from typing import Any

from fathom.backends import Completion
from fathom.serve._schema import ApiError, ChatCompletionBody

__all__ = ["nudged", "obeys", "refusal"]


def _wanted(body: ChatCompletionBody) -> str:
    forced = body.forced_tool
    return f"a call to {forced!r}" if forced else "a tool call"


def obeys(completion: Completion, body: ChatCompletionBody) -> bool:
    """Whether ``completion`` holds the call(s) ``body.tool_choice`` asks for."""
    calls = completion.message.get("tool_calls") or []
    forced = body.forced_tool
    return bool(calls) and (forced is None or all(c["function"]["name"] == forced for c in calls))


def nudged(messages: list[dict[str, Any]], body: ChatCompletionBody) -> list[dict[str, Any]]:
    """``messages`` with one line telling the model to answer with the call (in the system message)."""
    forced = body.forced_tool
    line = (f"Answer only with a tool call to {forced} (a <tool_call> block), no text." if forced
            else "Answer only with a tool call (a <tool_call> block) to one of the tools, no text.")
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        return [{**first, "content": f"{first.get('content') or ''}\n\n{line}".lstrip()}, *messages[1:]]
    return [{"role": "system", "content": line}, *messages]


def refusal(completion: Completion, body: ChatCompletionBody) -> ApiError:
    """The 422 for a model that answered twice without the call ``tool_choice`` requires."""
    calls = [c["function"]["name"] for c in completion.message.get("tool_calls") or []]
    wrote = f"called {', '.join(calls)}" if calls else f"wrote {completion.text[:200]!r}"
    return ApiError(422, f"tool_choice asks for {_wanted(body)}, but the model answered without one twice (the "
                         f"second time told to call it); it {wrote}. Use tool_choice 'auto' to accept such "
                         f"answers, or retry with a temperature above 0.",
                    type_="server_error", param="tool_choice", code="tool_choice_not_followed")
