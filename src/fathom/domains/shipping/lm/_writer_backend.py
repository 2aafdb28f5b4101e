"""``rule:shipping-writer``: a rule-based model of the prompt -> area text mapping.

What it is: a fathom :class:`~fathom.backends.Backend` that reads only the chat prompt a language
model gets (:func:`~fathom.domains.shipping.lm.area_prompt`: per half, direction shares, steadiness,
low-centre hours, the force range, the sea-state class, the wet share and types, the visibility
shares), rebuilds from it statistics summaries the rule-based writer can use, and answers with
``write_area(...).body``, exactly the assistant turn of the ``shipping_data`` examples
("Wind. Sea state. Weather. Visibility."). Every decision and every word is the writer's own.

Why: it is a distillation teacher (``fathom distill --teacher rule:shipping-writer``) and a
baseline that sees only what the model sees, so the gap between it and the full writer is the
information the prompt loses, and a model scoring above it has learnt more than the prompt's rules.

How the summaries are rebuilt, per half:

* direction: the listed shares (percent -> fraction) with the mean direction their share-weighted
  vector mean, the steadiness and low-centre hours as given, and a median speed in the middle of
  the force range (the lower of the two middle forces of a two-force range, which agreed best on
  synthetic runs);
* force and sea state: the prompt's ranges and "occ" values are the statistics layer's choice and
  are kept exactly: each half gets a Beaufort (sea-state class) distribution built so that the
  writer's own covering rule picks that range and tail, and the whole period one that makes the
  writer use the halves' ranges (checked with :func:`~fathom.domains.shipping.writer.ranged_values`);
* weather: the wet share and, of it, the type shares;
* visibility: ``lt_1000m``, ``lt_2nm`` and ``lt_5nm`` from the class shares, with what the prompt
  left out (classes under 5%) spread evenly over the unlisted classes; "unknown" means no data.

The whole period is the average of the halves: the low-centre hours are their sum, and the mean
direction and steadiness those of the two halves' mean wind vectors (each the half's median speed
times its steadiness, in its mean direction) added together.

What it loses, so it sometimes disagrees with the full writer: shares are rounded to whole percent
and those under 5% (and all but the largest four) are dropped; the mean direction and median speed
are estimates (the speed within a force range, the directions within a sector, are gone); the whole
period's own direction, steadiness and visibility shares are only averages of the halves'. A wind
between two points (a uniform 200 degrees) reads "S100", so a pair the full writer says from the mean
direction ("south or southwest") is lost. Shares that round onto a rule's threshold (wet 10%, thunder
20%, a 10% visibility tail) fall either way. Measured on the ``shipping_data`` path (10 synthetic
days, 2 runs a day, 620 areas): the same text as the full writer for 77.7%, shipping grader 0.988
(tolerant) and 0.970 (strict); force and sea state always agree.

Not covered: prompts in any other format (they raise :class:`~fathom.errors.DataError` naming the
request, the line and a valid example), ``max_tokens`` (the text is never cut for length) and
sampling (the answer is deterministic); stop strings do cut the text.

>>> from fathom.backends import ChatRequest
>>> prompt = ("Viking\\nfirst: dir W100 st100 low0 | F6 | sea rough | dry | vis good100\\n"
...           "second: dir W100 st100 low0 | F6 | sea rough | dry | vis good100")
>>> ShippingWriterBackend().generate([ChatRequest([{"role": "user", "content": prompt}])])[0].text
'West 6. Rough. Fair. Good.'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fathom.backends import ChatRequest, Completion
from fathom.domains.shipping.vocab import BEAUFORT_KNOTS, POINT_DEGREES, POINTS, SEA_STATES, VISIBILITY, Force, SeaState
from fathom.domains.shipping.writer import beaufort_dist, force_value, ranged_values, sea_dist, sea_value, write_area
from fathom.errors import DataError, Problem

__all__ = ["ShippingWriterBackend", "area_from_prompt"]

_EXAMPLE = ("Viking\nfirst: dir W60 SW40 st90 low0 | F5-7 occ8 | sea moderate-rough | wet40 rain80 showers20 "
            "| vis good80 moderate20\nsecond: dir W100 st95 low0 | F6 | sea rough | dry | vis unknown")
_VALID = ("an area prompt is 3 lines: the area name, then 'first: ' and 'second: ' each followed by "
          "'dir <points> st<pct> low<hours> | F<lo>[-<hi>][ occ<force>] | sea <class>[-<class>][ occ <class>] "
          "| dry or wet<pct> <type><pct>... | vis <class><pct>... or vis unknown', as area_prompt writes it "
          f"(use a dataset built by the shipping_data stage), e.g. {_EXAMPLE!r}")
_WET_TYPES = ("rain", "showers", "drizzle", "snow", "thunder")
_SEA_NAME = "|".join(sorted(map(re.escape, SEA_STATES), key=len, reverse=True))
_VIS_NAME = "|".join(sorted(map(re.escape, VISIBILITY), key=len, reverse=True))
_DIR = re.compile(r"dir (?P<shares>none|(?:(?:N|NE|E|SE|S|SW|W|NW)\d+)(?: (?:N|NE|E|SE|S|SW|W|NW)\d+)*)"
                  r" st(?P<st>\d+) low(?P<low>\d+)")
_FORCE = re.compile(r"F(?P<lo>\d+)(?:-(?P<hi>\d+))?(?: occ(?P<occ>\d+))?")
_SEA = re.compile(rf"sea (?P<lo>{_SEA_NAME})(?:-(?P<hi>{_SEA_NAME}))?(?: occ (?P<occ>{_SEA_NAME}))?")
_WET = re.compile(r"dry|wet(?P<frac>\d+)(?P<types>(?: (?:rain|showers|drizzle|snow|thunder)\d+)*)")
_VIS = re.compile(rf"vis (?:unknown|(?P<shares>(?:{_VIS_NAME})\d+(?: (?:{_VIS_NAME})\d+)*))")
_SHARE = re.compile(rf"({_VIS_NAME}|[A-Za-z]+)(\d+)")


class _BadLine(ValueError):
    """A prompt that does not read; the message says which line, which part and why."""


@dataclass(frozen=True)
class _Half:
    """What the prompt says about one half of the period."""

    dir8: dict[str, float]
    steadiness: float
    low_hours: int
    force: tuple[int, int, int | None]
    """Beaufort range lo, hi and the "occasionally" force (None: none)."""
    sea: tuple[int, int, int | None]
    """Sea-state class range lo, hi and the "occasionally" class."""
    wet: float
    types: dict[str, float]
    """Shares of the wet cell-hours (fractions of ``wet``)."""
    vis: list[float] | None
    """Shares of very poor, poor, moderate and good, or None (unknown)."""


# ---------------------------------------------------------------- reading the prompt
def _pct(text: str, what: str) -> float:
    value = int(text)
    if value > 100:
        raise _BadLine(f"{what} {value}% is over 100%")
    return value / 100.0


def _shares(text: str, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in _SHARE.findall(text):
        if name in out:
            raise _BadLine(f"{what} {name!r} is listed twice")
        out[name] = _pct(value, f"{what} {name}")
    return out


def _full(pattern: re.Pattern[str], part: str, what: str) -> re.Match[str]:
    match = pattern.fullmatch(part.strip())
    if match is None:
        raise _BadLine(f"the {what} part {part.strip()!r} does not read")
    return match


def _force(part: str) -> tuple[int, int, int | None]:
    m = _full(_FORCE, part, "force")
    lo = int(m["lo"])
    hi = int(m["hi"] or lo)
    occ = None if m["occ"] is None else int(m["occ"])
    if not 0 <= lo <= hi <= 12 or (occ is not None and occ > 12):
        raise _BadLine(f"the force part {part.strip()!r} is not a Beaufort range (forces 0..12, low end first)")
    return lo, hi, occ


def _sea(part: str) -> tuple[int, int, int | None]:
    m = _full(_SEA, part, "sea")
    lo = SEA_STATES.index(m["lo"])
    hi = SEA_STATES.index(m["hi"] or m["lo"])
    if hi < lo:
        raise _BadLine(f"the sea part {part.strip()!r} names the higher class first")
    return lo, hi, None if m["occ"] is None else SEA_STATES.index(m["occ"])


def _half(text: str) -> _Half:
    parts = text.split(" | ")
    if len(parts) != 5:
        raise _BadLine(f"has {len(parts)} part(s) separated by ' | ', not 5 (dir, force, sea, weather, vis)")
    d = _full(_DIR, parts[0], "direction")
    dir8 = {} if d["shares"] == "none" else _shares(d["shares"], "direction share")
    w = _full(_WET, parts[3], "weather")
    wet = 0.0 if w["frac"] is None else _pct(w["frac"], "wet share")
    types = _shares(w["types"] or "", "weather share")
    v = _full(_VIS, parts[4], "visibility")
    vis = None
    if v["shares"] is not None:
        listed = _shares(v["shares"], "visibility share")
        vis = [listed.get(name, 0.0) for name in VISIBILITY]
    return _Half(dir8=dir8, steadiness=_pct(d["st"], "steadiness"), low_hours=int(d["low"]),
                 force=_force(parts[1]), sea=_sea(parts[2]), wet=wet, types=types, vis=vis)


def _read_prompt(text: str) -> tuple[str, _Half, _Half]:
    """The area name and both halves; :class:`_BadLine` carries the 1-based line number."""
    lines = text.strip().split("\n")
    if len(lines) != 3:
        raise _BadLine(f"the prompt has {len(lines)} line(s), not 3: {text.strip()[:120]!r}")
    name = lines[0].strip()
    if not name or name.startswith(("first:", "second:")):
        raise _BadLine(f"line 1: {lines[0]!r} is not an area name line")
    halves = []
    for n, (line, label) in enumerate(zip(lines[1:], ("first: ", "second: "), strict=True), 2):
        if not line.startswith(label):
            raise _BadLine(f"line {n}: {line!r} does not start with {label.strip()!r}")
        try:
            halves.append(_half(line[len(label):]))
        except _BadLine as exc:
            raise _BadLine(f"line {n}: {line!r}: {exc}") from None
    return name, halves[0], halves[1]


# ---------------------------------------------------------------- rebuilding the statistics
def _knots(force: int) -> float:
    """The middle of a Beaufort force's band (as ``writer._samples.sample`` sets it)."""
    top = BEAUFORT_KNOTS[force + 1] if force < 12 else 70.0
    return (BEAUFORT_KNOTS[force] + top) / 2.0 - 0.5


def _vector(shares: dict[str, float]) -> tuple[float, float]:
    return (sum(v * math.cos(math.radians(POINT_DEGREES[p])) for p, v in shares.items()),
            sum(v * math.sin(math.radians(POINT_DEGREES[p])) for p, v in shares.items()))


def _mean_dir(shares: dict[str, float]) -> float | None:
    x, y = _vector(shares)
    return None if math.hypot(x, y) < 1e-9 else math.degrees(math.atan2(y, x)) % 360.0


def _ranged(lo: int, hi: int, tail: int | None, size: int, first: int) -> list[float]:
    """A distribution on ``size`` classes whose covering range is ``lo..hi`` with ``tail`` above it.

    The range holds 85% (evenly), the tail 15%; without a tail the 15% sit just below the range
    (or in it, when nothing is below ``first``), where no "occasionally" rule looks.
    """
    dist = [0.0] * size
    inside = 0.85 if tail is not None or lo > first else 1.0
    for k in range(lo, hi + 1):
        dist[k] = inside / (hi - lo + 1)
    if tail is not None:
        dist[tail] = 0.15
    elif lo > first:
        dist[lo - 1] = 0.15
    return dist


def _wind(h: _Half, beaufort: list[float]) -> dict[str, Any]:
    lo, hi, _ = h.force
    return {"beaufort": beaufort, "dir8": dict(h.dir8), "mean_dir_deg": _mean_dir(h.dir8),
            "steadiness": h.steadiness, "kt": {"p50": _knots((lo + hi) // 2)}}


def _summary(h: _Half) -> dict[str, Any]:
    lo, hi, occ = h.force
    c_lo, c_hi, c_occ = h.sea
    precip = {"frac": h.wet, **{k: h.wet * h.types.get(k, 0.0) for k in _WET_TYPES}}
    vis = None
    if h.vis is not None:
        listed = [v for v in h.vis if v > 0]
        spread = max(0.0, 1.0 - sum(listed)) / (len(h.vis) - len(listed)) if len(listed) < len(h.vis) else 0.0
        vp, poor, mod, _ = (v if v > 0 else spread for v in h.vis)
        vis = {"lt_1000m": vp, "lt_2nm": vp + poor, "lt_5nm": vp + poor + mod}
    return {"wind": _wind(h, _ranged(lo, hi, occ, 13, 1)), "low_centre_hours": h.low_hours,
            "sea": {"classes": _ranged(c_lo, c_hi, c_occ, len(SEA_STATES), 0)}, "precip": precip, "vis": vis}


def _whole(s1: dict[str, Any], s2: dict[str, Any]) -> dict[str, Any]:
    """The whole period as the average of the halves (force and sea classes are set later)."""
    w1, w2 = s1["wind"], s2["wind"]
    dir8 = {p: (w1["dir8"].get(p, 0.0) + w2["dir8"].get(p, 0.0)) / 2 for p in POINTS}
    k1, k2 = w1["kt"]["p50"], w2["kt"]["p50"]
    x = y = 0.0
    for w, k in ((w1, k1), (w2, k2)):
        if w["mean_dir_deg"] is not None:
            x += w["steadiness"] * k * math.cos(math.radians(w["mean_dir_deg"]))
            y += w["steadiness"] * k * math.sin(math.radians(w["mean_dir_deg"]))
    vis = None
    if s1["vis"] is not None and s2["vis"] is not None:
        vis = {k: (s1["vis"][k] + s2["vis"][k]) / 2 for k in s1["vis"]}
    return {"wind": {"beaufort": w1["beaufort"], "dir8": {p: v for p, v in dir8.items() if v > 0},
                     "mean_dir_deg": None if math.hypot(x, y) < 1e-9 else math.degrees(math.atan2(y, x)) % 360.0,
                     "kt": {"p50": (k1 + k2) / 2},
                     "steadiness": min(1.0, math.hypot(x, y) / (k1 + k2)) if k1 + k2 > 0 else 0.0},
            "low_centre_hours": s1["low_centre_hours"] + s2["low_centre_hours"],
            "sea": {"classes": s1["sea"]["classes"]},
            "precip": {k: (s1["precip"][k] + s2["precip"][k]) / 2 for k in s1["precip"]}, "vis": vis}


_RANGED = {"force": (force_value, beaufort_dist, "wind", "beaufort", Force),
           "sea": (sea_value, sea_dist, "sea", "classes", SeaState)}
"""Per ranged field: the writer's rule, its distribution, where the distribution sits, the value type."""


def _fit_whole(field: str, halves: tuple[_Half, _Half], s_all: dict[str, Any], s1: dict[str, Any],
               s2: dict[str, Any]) -> bool:
    """Give ``s_all`` a distribution with which the writer picks the prompt's ranges and tails for ``field``.

    Tried in turn: the first half's (right when both halves share a range), then each single class
    from the top down (one whose range does not fit the halves, so each keeps its own). False when
    none does: the prompt's values are not ones the statistics layer chooses.
    """
    choose, dist, group, key, cls = _RANGED[field]
    want = []
    for h in halves:
        lo, hi, occ = getattr(h, field)
        want += [cls(lo, hi), None if occ is None else cls(occ)]
    size = len(s1[group][key])
    for candidate in [s1[group][key], *([1.0 if k == c else 0.0 for k in range(size)] for c in reversed(range(size)))]:
        s_all[group][key] = candidate
        if ranged_values(choose, dist, s_all, s1, s2) == tuple(want):
            return True
    return False


def area_from_prompt(text: str) -> tuple[str, dict[str, Any]]:
    """The area name and rebuilt statistics area (``{"periods": {"all", "first", "second"}}``) of a prompt.

    >>> name, area = area_from_prompt("Viking\\nfirst: dir W100 st100 low0 | F6 | sea rough | dry | vis good100"
    ...                               "\\nsecond: dir W100 st100 low0 | F6 occ7 | sea rough | dry | vis good100")
    >>> name, area["periods"]["second"]["wind"]["beaufort"][5:8]
    ('Viking', [0.0, 0.85, 0.15])

    Raises:
        DataError: the text is not an area prompt, or its force or sea ranges are not ones the
            statistics layer chooses.
    """
    try:
        name, h1, h2 = _read_prompt(text)
    except _BadLine as exc:
        raise DataError([Problem("prompt", f"{exc}; {_VALID}")], title="not a shipping area prompt") from None
    s1, s2 = _summary(h1), _summary(h2)
    s_all = _whole(s1, s2)
    problems = []
    if not _fit_whole("force", (h1, h2), s_all, s1, s2):
        problems.append(Problem("prompt", f"the force ranges {_said(h1.force)} and {_said(h2.force)} are not ones "
                                          f"the statistics layer chooses (1 to 3 forces, from force 1 up to at "
                                          f"least 3, 'occ' the next force up); {_VALID}"))
    if not _fit_whole("sea", (h1, h2), s_all, s1, s2):
        problems.append(Problem("prompt", f"the sea-state classes {_said(h1.sea)} and {_said(h2.sea)} are not ones "
                                          f"the statistics layer chooses (one class or an adjacent pair, 'occ' the "
                                          f"next class up); {_VALID}"))
    if problems:
        raise DataError(problems, title="not a shipping area prompt")
    return name, {"periods": {"all": s_all, "first": s1, "second": s2}}


def _said(value: tuple[int, int, int | None]) -> str:
    lo, hi, occ = value
    return f"{lo}-{hi}" + ("" if occ is None else f" occ {occ}")


# ---------------------------------------------------------------- the backend
def _cut(text: str, stops: Sequence[str]) -> str:
    ends = [i for i in (text.find(s) for s in stops) if i >= 0]
    return text[:min(ends)].strip() if ends else text


class ShippingWriterBackend:
    """The rule-based writer answering from the prompt alone (see the module docstring).

    >>> backend = ShippingWriterBackend()
    >>> backend.model_name, backend.supports_batching
    ('rule:shipping-writer', False)
    """

    supports_batching: ClassVar[bool] = False
    model_name: str = "rule:shipping-writer"

    def answer(self, prompt: str) -> str:
        """The area text for one prompt (raises :class:`~fathom.errors.DataError` for a bad one)."""
        _, area = area_from_prompt(prompt)
        return write_area(area).body

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer each request's last user message; every bad request is listed in one DataError.

        Raises:
            DataError: a request has no user message or its last one is not an area prompt.
        """
        texts: list[str | None] = []
        problems: list[Problem] = []
        for i, request in enumerate(requests):
            users = [m for m in request.messages if m.get("role") == "user"]
            content = users[-1].get("content") if users else None
            if not isinstance(content, str):
                problems.append(Problem(f"request {i}", f"needs a user message with text content (got roles "
                                                        f"{[m.get('role') for m in request.messages]}); {_VALID}"))
                texts.append(None)
                continue
            try:
                texts.append(self.answer(content))
            except DataError as exc:
                problems += [Problem(f"request {i}: {p.where}", p.message) for p in exc.problems]
                texts.append(None)
        if problems:
            raise DataError(problems, title=f"{self.model_name} answers shipping area prompts only")
        return [self._complete(request, text) for request, text in zip(requests, texts, strict=True)
                if text is not None]

    @staticmethod
    def _complete(request: ChatRequest, text: str) -> Completion:
        if request.cancel is not None and request.cancel.is_set():
            return Completion(message={"role": "assistant", "content": ""}, text="", finish_reason="cancelled")
        text = _cut(text, request.sampling.stop)
        if request.on_text is not None:
            request.on_text(text)
        return Completion(message={"role": "assistant", "content": text}, text=text, finish_reason="stop")
