"""The model-backed OpenAI grader types as Fathom nodes: ``score_model`` and ``label_model``.

``input`` is a list of chat messages whose text may hold templates; ``developer`` turns become
``system`` turns. The judge is asked, as OpenAI's response format did, for
``{"steps": [...], "result": ...}`` (a request appended to the last user turn), and called through
:func:`fathom.backends.load_backend` with temperature 0 unless ``sampling_params`` says otherwise.

* ``score_model``: ``result`` is a number, clipped to ``range`` (default ``[0, 1]``); the score is
  its position in the range, ``raw`` keeps the number. A reply without a readable number counts as
  the bottom of the range with ``unparsed = 1`` (OpenAI scored non-numeric output 0).
* ``label_model``: ``result`` is one of ``labels``; the score is 1 when it is in ``passing_labels``.

The judge is the grader's ``model`` option when given, else the node's own ``model`` read as a
Fathom model spec (an OpenAI model name is not one, which is reported at build time). Replies are
cached per node for identical prompts. ``sampling_params.reasoning_effort`` is accepted and ignored.
Not covered: image and audio inputs; logprob-weighted scores.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from fathom.errors import ConfigError, ModelError, did_you_mean
from fathom.graders._openai_nodes import Options, Outcome, check_keys, threshold
from fathom.graders._openai_templates import Context, Template, parse_template

if TYPE_CHECKING:
    from fathom.backends import Backend, Sampling

__all__ = ["LabelModel", "ScoreModel", "parse_result"]

_ROLES = {"user": "user", "system": "system", "developer": "system", "assistant": "assistant"}
_TEXT_PARTS = ("input_text", "output_text", "text")
_SAMPLING_KEYS = ("max_completion_tokens", "max_completions_tokens", "reasoning_effort", "seed", "temperature",
                  "top_p")
_NUMBER = re.compile(r'"result"\s*:\s*"?(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')


def parse_result(text: str) -> Any:
    """The ``result`` of a judge reply: from its JSON object, else the whole reply (a number when it is
    one); None for an empty reply.

    >>> parse_result('Thinking... {"steps": [], "result": 7}'), parse_result(" 0.5 "), parse_result("pass")
    (7, 0.5, 'pass')
    """
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            obj = json.loads(text[start:end + 1])
            if isinstance(obj, dict) and "result" in obj:
                return obj["result"]
        except json.JSONDecodeError:
            found = _NUMBER.search(text)
            if found:
                return float(found.group(1))
    body = text.strip().strip('"')
    try:
        return float(body)
    except ValueError:
        return body or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _messages(config: Mapping[str, Any], where: str, problems: list[str]) -> list[tuple[str, list[Template]]]:
    raw = config.get("input")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}.input: expected a non-empty list of {{role, content}} messages, got {raw!r:.80}")
        return []
    out = []
    for i, message in enumerate(raw):
        at = f"{where}.input[{i}]"
        if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
            problems.append(f"{at}: expected {{role: user|system|developer|assistant, content: ...}}, "
                            f"got {message!r:.80}")
            continue
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        texts = []
        for j, part in enumerate(parts):
            if isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS and "text" in part:
                part = part["text"]
            if not isinstance(part, str):
                problems.append(f"{at}.content: only text is supported (a string or {{type: input_text, text}}), "
                                f"got {part!r:.80}")
                continue
            texts.append(parse_template(part, f"{at}.content" + (f"[{j}]" if isinstance(content, list) else ""),
                                        problems))
        out.append((_ROLES[message["role"]], texts))
    return out


def _sampling(config: Mapping[str, Any], where: str, problems: list[str]) -> Sampling | None:
    from fathom.backends import Sampling

    params = config.get("sampling_params") or {}
    if not isinstance(params, Mapping):
        problems.append(f"{where}.sampling_params: expected an object, got {params!r}")
        return None
    for key in params:
        if key not in _SAMPLING_KEYS:
            problems.append(f"{where}.sampling_params: unknown key {key!r}. {did_you_mean(str(key), _SAMPLING_KEYS)} "
                            f"Valid: {', '.join(_SAMPLING_KEYS)}.".replace(".  ", ". "))
    tokens = params.get("max_completion_tokens", params.get("max_completions_tokens", 512))
    try:
        return Sampling(max_tokens=int(tokens), temperature=float(params.get("temperature", 0.0)),
                        top_p=float(params.get("top_p", 1.0)), seed=params.get("seed"))
    except (ConfigError, TypeError, ValueError) as exc:
        problems.append(f"{where}.sampling_params: {exc}")
        return None


def _judge_spec(config: Mapping[str, Any], where: str, options: Options, problems: list[str]) -> Any:
    if options.model is not None:
        return options.model
    spec = config.get("model")
    if not isinstance(spec, str):
        problems.append(f"{where}: missing 'model'; give the node a Fathom model spec or the grader a `model`")
        return None
    from fathom.models import resolve_model

    try:
        resolve_model(spec)
    except ModelError as exc:
        problems.append(f"{where}: model {spec!r} is not a Fathom model spec ({exc}). OpenAI models cannot run "
                        f"here: give the grader `model: <spec>` (a local model, a folder or "
                        f"http://host:port/v1#name; `--model` for `fathom grader import`)")
    return spec


@dataclass
class _Judged:
    """What score_model and label_model share: prompt rendering and the cached judge call."""

    key: str
    messages: list[tuple[str, list[Template]]]
    spec: Any
    sampling: Sampling | None
    request: str
    _backend: Backend | None = None
    _cache: dict[str, str] = field(default_factory=dict)

    def reply(self, ctx: Context) -> str:
        conversation = [{"role": role, "content": "\n".join(t.render(ctx) for t in texts)}
                        for role, texts in self.messages]
        if conversation and conversation[-1]["role"] == "user":
            conversation[-1]["content"] += "\n\n" + self.request
        else:
            conversation.append({"role": "user", "content": self.request})
        key = json.dumps(conversation, sort_keys=True)
        if key not in self._cache:
            from fathom.backends import ChatRequest, Sampling

            completion = self.backend.generate([ChatRequest(conversation, sampling=self.sampling or Sampling())])[0]
            self._cache[key] = completion.message.get("content") or completion.text or ""
        return self._cache[key]

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            spec = self.spec
            if isinstance(spec, (str, Mapping)):
                from fathom.backends import load_backend

                options: dict[str, Any] = {"spec": spec} if isinstance(spec, str) else dict(spec)
                spec = load_backend(options.pop("spec"), **options)
            self._backend = spec
        assert self._backend is not None
        return self._backend

    def templates(self) -> list[Template]:
        return [t for _, texts in self.messages for t in texts]

    def model_label(self) -> str:
        return self.spec if isinstance(self.spec, str) else getattr(self.spec, "model_name", type(self.spec).__name__)


@dataclass
class ScoreModel(_Judged):
    type: ClassVar[str] = "score_model"
    low: float = 0.0
    high: float = 1.0
    pass_threshold: float | None = None

    @classmethod
    def build(cls, key: str, config: Mapping[str, Any], where: str, options: Options,
              problems: list[str]) -> ScoreModel:
        check_keys(config, where, ("model", "input", "range", "sampling_params", "pass_threshold"), ("input",),
                   problems)
        bounds = config.get("range", [0, 1])
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) is not None for b in bounds)
                and float(bounds[0]) < float(bounds[1])):
            problems.append(f"{where}.range: expected [low, high] numbers with low < high, got {bounds!r}")
            bounds = [0, 1]
        low, high = float(bounds[0]), float(bounds[1])
        request = (f'Reply with only a JSON object: {{"steps": [{{"description": "...", "conclusion": "..."}}], '
                   f'"result": <a number from {low:g} to {high:g}>}}')
        return cls(key, _messages(config, where, problems), _judge_spec(config, where, options, problems),
                   _sampling(config, where, problems), request, low=low, high=high,
                   pass_threshold=threshold(config, where, problems))

    def run(self, ctx: Context) -> Outcome:
        text = self.reply(ctx)
        value = _number(parse_result(text))
        raw = self.low if value is None else min(self.high, max(self.low, value))
        score = (raw - self.low) / (self.high - self.low)
        details = {"raw": raw, "unparsed": float(value is None)}
        if self.pass_threshold is not None:
            details["passed"] = float(raw >= self.pass_threshold)
        why = f"judge said {value:g}" if value is not None else f"no number in the judge's reply {text[:80]!r}"
        return Outcome(raw, score, details, f"{why} (range {self.low:g}-{self.high:g})")

    def describe(self) -> list[str]:
        return [f"{self.key}: score_model  judge={self.model_label()} range=[{self.low:g}, {self.high:g}], "
                f"{len(self.messages)} message(s)"]


@dataclass
class LabelModel(_Judged):
    type: ClassVar[str] = "label_model"
    labels: Sequence[str] = ()
    passing: Sequence[str] = ()

    @classmethod
    def build(cls, key: str, config: Mapping[str, Any], where: str, options: Options,
              problems: list[str]) -> LabelModel:
        check_keys(config, where, ("model", "input", "labels", "passing_labels"),
                   ("input", "labels", "passing_labels"), problems)
        labels, passing = config.get("labels", []), config.get("passing_labels", [])
        for name, value in (("labels", labels), ("passing_labels", passing)):
            if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                problems.append(f"{where}.{name}: expected a non-empty list of strings, got {value!r}")
        if isinstance(labels, list) and isinstance(passing, list):
            problems.extend(f"{where}.passing_labels: {p!r} is not in labels" for p in passing if p not in labels)
        request = (f'Reply with only a JSON object: {{"steps": [{{"description": "...", "conclusion": "..."}}], '
                   f'"result": <one of {json.dumps(labels)}>}}')
        return cls(key, _messages(config, where, problems), _judge_spec(config, where, options, problems),
                   _sampling(config, where, problems), request, labels=list(labels), passing=list(passing))

    def run(self, ctx: Context) -> Outcome:
        text = self.reply(ctx)
        label = parse_result(text)
        if label not in self.labels:
            named = [lab for lab in self.labels if re.search(rf"\b{re.escape(lab)}\b", text)]
            label = named[0] if len(named) == 1 else None
        value = float(label in self.passing)
        return Outcome(value, value, {"unparsed": float(label is None)},
                       f"judge chose {label!r}" if label else f"no label in the judge's reply {text[:80]!r}")

    def describe(self) -> list[str]:
        return [f"{self.key}: label_model  judge={self.model_label()} labels={list(self.labels)} "
                f"passing={list(self.passing)}"]
