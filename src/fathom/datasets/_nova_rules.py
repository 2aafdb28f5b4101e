"""Amazon Nova ``bedrock-conversation-2024`` rules, checked before a row is written.

The rules follow the Nova fine-tuning docs and AWS's dataset validator
(``aws-samples/amazon-nova-samples``, ``nova_ft_dataset_validator.py``):

* roles are ``user`` and ``assistant`` only; they alternate, starting with user and ending with
  assistant (in a DPO row the last message is an assistant ``candidates`` message);
* ``toolUse`` appears only in assistant turns, ``toolResult`` and media only in user turns;
* tool names used must be declared in ``toolConfig`` (with a non-empty description and an input
  schema that has a ``type``); ``toolUseId`` values are unique, and every result follows its use;
* text (system, text blocks, reasoning) must not contain the banned strings below (any case);
* at most 10 images, 1 video or 1 document per row; DPO candidates hold no media and need both
  a ``preferred`` and a ``non-preferred`` candidate.

Covers: :func:`validate_nova` for one row. Not covered: dataset-size limits (200-20,000 rows for
Nova 2 Lite SFT), which depend on the model and the platform.
"""

from __future__ import annotations

from typing import Any

from fathom.errors import Problem

__all__ = ["NOVA_BANNED_STRINGS", "validate_nova"]

NOVA_BANNED_STRINGS = ("System:", "User:", "Bot:", "Assistant:", "Thought:", "[EOS]", "<image>", "<video>", "<unk>")
_BLOCKS = ("text", "toolUse", "toolResult", "reasoningContent", "image", "video", "document")
_LABELS = ("preferred", "non-preferred")


def validate_nova(row: Any) -> list[Problem]:
    """Every Nova rule a row breaks, with field paths (empty when the row is fine).

    >>> validate_nova({"messages": [{"role": "user", "content": [{"text": "Hi"}]},
    ...                             {"role": "assistant", "content": [{"text": "Hello"}]}]})
    []
    >>> [p.where for p in validate_nova({"messages": [{"role": "user", "content": [{"text": "User: hi"}]}]})]
    ['messages', 'messages[0].content[0].text']
    """
    if not isinstance(row, dict):
        return [Problem("", f"expected a JSON object, got {type(row).__name__}")]
    problems: list[Problem] = []
    declared = _check_tool_config(row.get("toolConfig"), problems)
    for i, item in enumerate(row.get("system") or []):
        text = item.get("text") if isinstance(item, dict) else None
        _check_text(text, f"system[{i}].text", problems)
    turns = row.get("messages")
    if not isinstance(turns, list):
        return problems + [Problem("messages", "expected a list of turns")]
    _check_roles(turns, problems)
    uses: set[str] = set()
    results: set[str] = set()
    for i, turn in enumerate(turns):
        if isinstance(turn, dict) and "candidates" in turn:
            _check_candidates(turn["candidates"], f"messages[{i}].candidates", i == len(turns) - 1, problems)
            continue
        content = turn.get("content") if isinstance(turn, dict) else None
        if not isinstance(content, list) or not content:
            problems.append(Problem(f"messages[{i}].content", "expected a non-empty list of content blocks"))
            continue
        _check_blocks(content, f"messages[{i}].content", turn.get("role"), declared, uses, results, problems)
    _check_media(turns, problems)
    return problems


def _check_tool_config(config: Any, problems: list[Problem]) -> set[str] | None:
    if config is None:
        return None
    specs = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(specs, list) or not specs:
        problems.append(Problem("toolConfig.tools", "expected a non-empty list of tools (omit toolConfig when "
                                                    "there are none)"))
        return set()
    names: set[str] = set()
    for i, item in enumerate(specs):
        path = f"toolConfig.tools[{i}].toolSpec"
        spec = item.get("toolSpec") if isinstance(item, dict) else None
        if not isinstance(spec, dict):
            problems.append(Problem(path, "missing; each tool is {\"toolSpec\": {name, description, inputSchema}}"))
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{path}.name", "must be a non-empty string"))
        elif name in names:
            problems.append(Problem(f"{path}.name", f"tool {name!r} is declared twice"))
        else:
            names.add(name)
        description = spec.get("description")
        if not isinstance(description, str) or not description.strip():
            problems.append(Problem(f"{path}.description", "Nova requires a non-empty tool description; add "
                                                           "\"description\" to the tool's function"))
        schema = spec.get("inputSchema", {}).get("json") if isinstance(spec.get("inputSchema"), dict) else None
        if not isinstance(schema, dict) or "type" not in schema:
            problems.append(Problem(f"{path}.inputSchema.json", "must be a JSON Schema object with a \"type\""))
    return names


def _check_roles(turns: list[Any], problems: list[Problem]) -> None:
    if len(turns) < 2:
        problems.append(Problem("messages", f"a Nova row needs a user turn and an assistant turn, got {len(turns)} "
                                            "turn(s)"))
    for i, turn in enumerate(turns):
        role = turn.get("role") if isinstance(turn, dict) else None
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            problems.append(Problem(f"messages[{i}].role", f"expected {expected!r} (roles alternate, starting with "
                                                           f"user), got {role!r}"))
    last = turns[-1] if turns else None
    if len(turns) >= 2 and isinstance(last, dict) and last.get("role") == "user":
        problems.append(Problem(f"messages[{len(turns) - 1}]", "the last turn must be the assistant's; Nova trains "
                                                               "on conversations that end with an answer"))


def _check_blocks(content: list[Any], path: str, role: Any, declared: set[str] | None, uses: set[str],
                  results: set[str], problems: list[Problem]) -> None:
    for j, block in enumerate(content):
        where = f"{path}[{j}]"
        kinds = [k for k in block if k in _BLOCKS] if isinstance(block, dict) else []
        if len(kinds) != 1 or len(block) != 1:
            problems.append(Problem(where, f"expected exactly one of {', '.join(_BLOCKS)} per block"))
            continue
        kind = kinds[0]
        if kind == "text":
            _check_text(block["text"], f"{where}.text", problems, allow_empty=False)
        elif kind == "reasoningContent":
            text = (block["reasoningContent"].get("reasoningText") or {}).get("text") \
                if isinstance(block["reasoningContent"], dict) else None
            _check_text(text, f"{where}.reasoningContent.reasoningText.text", problems, allow_empty=False)
        if kind in ("toolUse", "reasoningContent") and role != "assistant":
            problems.append(Problem(f"{where}.{kind}", f"{kind} may appear only in assistant turns"))
        if kind in ("toolResult", "image", "video", "document") and role != "user":
            problems.append(Problem(f"{where}.{kind}", f"{kind} may appear only in user turns"))
        if kind == "toolUse":
            _check_use(block["toolUse"], f"{where}.toolUse", declared, uses, problems)
        elif kind == "toolResult":
            _check_result(block["toolResult"], f"{where}.toolResult", uses, results, problems)


def _check_use(use: Any, where: str, declared: set[str] | None, uses: set[str], problems: list[Problem]) -> None:
    if not isinstance(use, dict):
        problems.append(Problem(where, "expected {toolUseId, name, input}"))
        return
    name, use_id = use.get("name"), use.get("toolUseId")
    if declared is None:
        problems.append(Problem(f"{where}.name", f"tool {name!r} is used but the row has no toolConfig; declare "
                                                 "the tools (Fathom: add \"tools\" to the example)"))
    elif name not in declared:
        problems.append(Problem(f"{where}.name", f"tool {name!r} is not declared in toolConfig (declared: "
                                                 f"{', '.join(sorted(declared)) or 'none'})"))
    if not isinstance(use.get("input"), dict):
        problems.append(Problem(f"{where}.input", "must be a JSON object"))
    if not isinstance(use_id, str) or not use_id.strip():
        problems.append(Problem(f"{where}.toolUseId", "must be a non-empty string"))
    elif use_id in uses:
        problems.append(Problem(f"{where}.toolUseId", f"duplicate toolUseId {use_id!r}"))
    else:
        uses.add(use_id)


def _check_result(result: Any, where: str, uses: set[str], results: set[str], problems: list[Problem]) -> None:
    use_id = result.get("toolUseId") if isinstance(result, dict) else None
    if use_id not in uses:
        problems.append(Problem(f"{where}.toolUseId", f"no earlier toolUse has id {use_id!r}; a result must "
                                                      "follow its use"))
    elif use_id in results:
        problems.append(Problem(f"{where}.toolUseId", f"a second result for toolUseId {use_id!r}"))
    else:
        results.add(use_id)
    content = result.get("content") if isinstance(result, dict) else None
    if not isinstance(content, list) or not content:
        problems.append(Problem(f"{where}.content", "expected a non-empty list of {text} or {json} items"))


def _check_candidates(candidates: Any, path: str, is_last: bool, problems: list[Problem]) -> None:
    if not is_last:
        problems.append(Problem(path, "only the last message may hold candidates"))
    if not isinstance(candidates, list) or len(candidates) < 2:
        problems.append(Problem(path, "expected at least two candidates"))
        return
    labels = set()
    for k, cand in enumerate(candidates):
        label = cand.get("preferenceLabel") if isinstance(cand, dict) else None
        if label not in _LABELS:
            problems.append(Problem(f"{path}[{k}].preferenceLabel", f"expected one of {', '.join(_LABELS)}, "
                                                                    f"got {label!r}"))
        labels.add(label)
        content = cand.get("content") if isinstance(cand, dict) else None
        if not isinstance(content, list) or not content:
            problems.append(Problem(f"{path}[{k}].content", "expected a non-empty list of content blocks"))
            continue
        for j, block in enumerate(content):
            if isinstance(block, dict) and any(m in block for m in ("image", "video", "document")):
                problems.append(Problem(f"{path}[{k}].content[{j}]", "DPO candidates cannot hold media"))
            elif isinstance(block, dict) and "text" in block:
                _check_text(block["text"], f"{path}[{k}].content[{j}].text", problems, allow_empty=False)
    if not set(_LABELS) <= labels:
        problems.append(Problem(path, "needs both a \"preferred\" and a \"non-preferred\" candidate"))


def _check_media(turns: list[Any], problems: list[Problem]) -> None:
    counts = {"image": 0, "video": 0, "document": 0}
    for turn in turns:
        for block in (turn.get("content") if isinstance(turn, dict) else None) or []:
            for kind in counts:
                counts[kind] += isinstance(block, dict) and kind in block
    if counts["image"] > 10:
        problems.append(Problem("messages", f"{counts['image']} images; Nova allows at most 10 per row"))
    if counts["video"] > 1 or counts["document"] > 1:
        problems.append(Problem("messages", "Nova allows at most one video and one document per row"))
    if counts["video"] and (counts["image"] or counts["document"]):
        problems.append(Problem("messages", "a row with a video cannot also hold images or documents"))


def _check_text(text: Any, where: str, problems: list[Problem], *, allow_empty: bool = True) -> None:
    if not isinstance(text, str):
        problems.append(Problem(where, f"expected a string, got {type(text).__name__}"))
        return
    if not allow_empty and not text.strip():
        problems.append(Problem(where, "empty text"))
    lowered = text.lower()
    for banned in NOVA_BANNED_STRINGS:
        if banned.lower() in lowered:
            problems.append(Problem(where, f"contains the banned string {banned!r} (Nova rejects "
                                           f"{', '.join(NOVA_BANNED_STRINGS)} in any case)"))
