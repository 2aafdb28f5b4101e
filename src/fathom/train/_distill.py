"""Distillation (``fathom distill``): a teacher answers, the grader keeps what passes, the student learns it.

Read it as the method:

1. **Check** everything that needs no model: the prompt file, that the grader can grade every example,
   the threshold, the method, the out folder (and for ``method="logits"`` that teacher and student share a
   vocabulary, read from their configs). Every problem is an error before any model loads.
2. **Teach.** The teacher answers every prompt once, greedily. It is any model spec: a local model, an
   endpoint (``http://host:port/v1#name``, e.g. a hosted large model behind an OpenAI-compatible API), or a
   rule-based model a domain registers (``rule:shipping-writer``). Answers are appended to
   ``teacher/answers.jsonl`` chunk by chunk, each keyed by a hash of its prompt and the teacher's settings, so an
   interrupted run resumes without asking again.
3. **Grade.** The grader ``fathom eval`` and RFT use scores each answer against the example's reference.
   At or above ``threshold`` the example, with the teacher's answer as its assistant turn, goes to
   ``kept.jsonl``; otherwise the prompt, the answer, its score and the reason go to the dead-letter file
   ``rejected.jsonl``. Reasons: ``empty`` (no text and no tool call), ``cut_off`` (the teacher hit
   ``max_tokens``: the answer is incomplete), ``below_threshold`` (with the grader's own reason),
   ``grader_error``.
4. **Train the student** on ``kept.jsonl``: ``method="sft"`` (offline distillation: :func:`train_sft`, TRL's
   ``SFTTrainer``), or ``method="logits"``: on-policy logit distillation with TRL's ``DistillationTrainer``
   (:mod:`fathom.train._distill_logits`; the student samples, the teacher's next-token distributions are the
   target).
5. **Report** ``result.json``: the teacher summary, the student's run, and for a local teacher that shares the
   student's vocabulary the mean per-token KL(teacher || student) on held-out kept answers before and after.

Layout of ``OUT``::

    distill_args.json   teacher/answers.jsonl   kept.jsonl   rejected.jsonl   teacher_summary.json
    student/            the student's run folder (a model spec: ``fathom generate --model OUT/student``)
    result.json         written last

Not covered: several teachers voting, sampling more than one answer per prompt (see ``fathom data pairs``),
teachers with another tokenizer for logit distillation (TRL's GOLD trainer; SFT on their text works).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, DataError, GraderError, Problem

if TYPE_CHECKING:
    from fathom.backends import Backend, Completion
    from fathom.graders import Grader

__all__ = ["METHODS", "REASONS", "DistillResult", "TeacherSummary", "distill", "grade_teacher_answers",
           "teach"]

METHODS = ("sft", "logits")
"""How the student learns: SFT on the kept answers, or on-policy logit distillation."""
REASONS = ("empty", "cut_off", "below_threshold", "grader_error")
"""Why a teacher answer lands in the dead-letter file."""
ARGS_FILE = "distill_args.json"
_CHUNK = 32  # answers appended to the cache at a time (a resumed run loses at most one chunk)


@dataclass(frozen=True)
class TeacherSummary:
    """What the teacher answered and what the grader kept (``teacher_summary.json``)."""

    teacher: str
    grader: str
    threshold: float
    prompts: int
    kept: int
    rejected: int
    reasons: dict[str, int]
    """Rejections by reason (:data:`REASONS`)."""
    mean_score: float | None
    """Mean grade of every answer (rejected ones included)."""
    cached: int
    """Answers reused from an earlier, interrupted run."""
    seconds: float
    kept_file: str | None = None
    rejected_file: str | None = None

    @property
    def kept_share(self) -> float:
        return self.kept / self.prompts if self.prompts else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kept_share": round(self.kept_share, 4)}

    def render(self) -> str:
        reasons = ", ".join(f"{n} {r}" for r, n in self.reasons.items() if n) or "none"
        mean = "-" if self.mean_score is None else f"{self.mean_score:.3f}"
        lines = [f"teacher {self.teacher}: {self.prompts} prompt(s), graded by {self.grader} "
                 f"(keep at >= {self.threshold}), mean score {mean}",
                 f"  kept {self.kept} ({100 * self.kept_share:.1f}%), rejected {self.rejected} ({reasons}); "
                 f"{self.cached} answer(s) reused from an earlier run, {self.seconds:.1f} s"]
        if self.rejected_file and self.rejected:
            lines.append(f"  dead letters: {self.rejected_file}")
        return "\n".join(lines)


@dataclass(frozen=True)
class DistillResult:
    """``result.json`` of a distillation run."""

    out: str
    method: str
    teacher: TeacherSummary
    student: str
    """The student's run folder (a model spec)."""
    student_result: dict[str, Any]
    kl_to_teacher: dict[str, float] | None = None
    """``{"before", "after"}``: mean per-token KL(teacher || student) on held-out kept answers (local teachers
    sharing the student's vocabulary only)."""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["teacher"] = self.teacher.to_dict()
        return out

    def render(self) -> str:
        lines = [self.teacher.render(), f"student ({self.method}): {self.student}"]
        if self.kl_to_teacher:
            lines.append(f"  KL(teacher || student) per token on held-out answers: {self.kl_to_teacher['before']:.4f}"
                         f" before, {self.kl_to_teacher['after']:.4f} after")
        lines.append(f"  {self.seconds:.1f} s in all; {self.out}/result.json")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- checks


def _check_threshold(threshold: float) -> list[Problem]:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        return [Problem("--threshold", f"must be a grade in [0, 1] (an answer is kept at or above it), got "
                                       f"{threshold!r}")]
    return []


def check_examples(grader: Grader, examples: Sequence[dict[str, Any]], where: str) -> None:
    """Every example has a prompt and the grader can grade it (an empty answer), before a model loads."""
    from fathom.backends import prompt_messages
    from fathom.graders import grading_problems

    if not examples:
        raise DataError([Problem(where, "holds no prompts; give JSON Lines of examples with the references the "
                                        "grader needs")], title="nothing to distil")
    problems = [Problem(f"{where} line {i + 1}", "has no prompt (no system, user or tool turn before a trailing "
                                                 "assistant turn)")
                for i, ex in enumerate(examples) if not prompt_messages(ex)]
    problems += grading_problems(grader, examples, lambda i: f"{where} line {i + 1}")
    if problems:
        raise DataError(problems, title="the grader cannot grade these examples")


# ---------------------------------------------------------------------------------------------- teach


def _key(messages: list[dict[str, Any]], tools: Any, teacher: str, max_tokens: int) -> str:
    payload = json.dumps({"messages": messages, "tools": tools, "teacher": teacher, "max_tokens": max_tokens},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    """Finished answers by key; a torn last line (a kill mid-write) is dropped."""
    found: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("key"), str) and isinstance(row.get("message"), dict):
            found[row["key"]] = row
    return found


def teach(engine: Backend, examples: Sequence[dict[str, Any]], cache: str | os.PathLike[str], *, teacher: str,
          max_tokens: int = 256, progress: bool = False) -> tuple[list[dict[str, Any]], int]:
    """The teacher's greedy answer to every example, reusing those already in ``cache`` and appending new ones.

    Returns:
        One ``{"key", "message", "finish_reason"}`` per example, in order, and how many came from the cache.
    """
    from fathom.backends import ChatRequest, Sampling, progress_bar, prompt_messages

    path = Path(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _read_cache(path)
    prompts = [(prompt_messages(ex), ex.get("tools") or None) for ex in examples]
    keys = [_key(m, t, teacher, max_tokens) for m, t in prompts]
    cached = sum(k in done for k in keys)
    todo = [i for i, k in enumerate(keys) if k not in done]
    with progress_bar(progress and bool(todo), len(todo), f"teacher {teacher}") as advance, \
            open(path, "a", encoding="utf-8") as sink:
        for start in range(0, len(todo), _CHUNK):
            chunk = todo[start:start + _CHUNK]
            requests = [ChatRequest(messages=prompts[i][0], tools=prompts[i][1],
                                    sampling=Sampling(max_tokens=max_tokens, temperature=0.0)) for i in chunk]
            answers: list[Completion] = engine.generate(requests)
            for i, answer in zip(chunk, answers, strict=True):
                row = {"key": keys[i], "message": answer.message, "finish_reason": answer.finish_reason}
                done[keys[i]] = row
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            advance(len(chunk))
    return [done[k] for k in keys], cached


def _has_answer(message: dict[str, Any]) -> bool:
    return bool((message.get("content") or "").strip() or message.get("tool_calls"))


def grade_teacher_answers(grader: Grader, examples: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]],
                          *, threshold: float, teacher: str, keep_cut_off: bool = False
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[float]]:
    """Split the teacher's answers into kept training examples and dead letters (with reasons).

    A kept example is the prompt with the teacher's answer as its assistant turn, ``reference`` and ``meta``
    kept, and ``meta.distill = {teacher, score}``. A dead letter is ``{"example", "answer", "score", "reason",
    "detail"}``, ``reason`` one of :data:`REASONS`. An answer cut off at ``max_tokens`` is rejected unless
    ``keep_cut_off`` (then it is graded like any other).
    """
    from fathom.backends import prompt_messages

    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    scores: list[float] = []
    for i, (example, answer) in enumerate(zip(examples, answers, strict=True)):
        message = {k: v for k, v in answer["message"].items() if k in ("role", "content", "tool_calls")}
        message["role"] = "assistant"
        score: float | None = None
        reason, detail = None, ""
        if not _has_answer(message):
            reason, detail = "empty", "the teacher returned no text and no tool call"
        elif answer.get("finish_reason") == "length" and not keep_cut_off:
            reason = "cut_off"
            detail = "the teacher stopped at max_tokens: the answer is incomplete (raise --max-tokens)"
        if reason is None or reason == "cut_off":
            try:
                grade = grader(example, message)
                score = float(grade.score)
                if reason is None and score < threshold:
                    reason = "below_threshold"
                    detail = f"score {score:.3f} < {threshold}" + (f": {grade.reason}" if grade.reason else "")
            except GraderError as exc:
                reason, detail = "grader_error", str(exc)
        if score is not None:
            scores.append(score)
        if reason is None:
            meta = {**(example.get("meta") or {}), "distill": {"teacher": teacher, "score": round(score or 0.0, 6)}}
            row = {"messages": [*prompt_messages(example), message], **({"tools": example["tools"]}
                                                                        if example.get("tools") else {}),
                   "reference": example.get("reference"), "meta": meta}
            kept.append({k: v for k, v in row.items() if v is not None})
        else:
            rejected.append({"line": i + 1, "id": (example.get("meta") or {}).get("id"), "reason": reason,
                             "detail": detail, "score": score, "answer": message, "example": example})
    return kept, rejected, scores


# ---------------------------------------------------------------------------------------------- distill


def distill(*, teacher: str, student: str, data: str | os.PathLike[str], grader: Grader | str | dict[str, Any],
            out: str | os.PathLike[str], threshold: float = 1.0, method: str = "sft", max_tokens: int = 256,
            eval_data: str | os.PathLike[str] | None = None, parallel: int | None = None,
            device: str | None = None, teacher_options: dict[str, Any] | None = None,
            student_options: dict[str, Any] | None = None, kl_examples: int = 32, keep_cut_off: bool = False,
            resume: bool = False, progress: bool = False) -> DistillResult:
    """Distil ``teacher`` into ``student`` on the prompts in ``data``, keeping only answers ``grader`` passes.

    Args:
        teacher: a model spec: local model, endpoint URL, or ``rule:NAME``.
        student: the student's model spec (local weights).
        data: JSON Lines of examples with the references the grader needs (a trailing assistant turn is left
            out of the prompt).
        grader: a grader, a registered name or a ``{name, ...}`` spec.
        out: the run folder (layout in the module docstring).
        threshold: keep an answer graded at or above this.
        method: ``"sft"`` or ``"logits"`` (:data:`METHODS`).
        max_tokens: most tokens per teacher answer.
        eval_data: held-out examples with answers for the student's evaluation loss (SFT).
        parallel: teacher requests in flight (batch size of a local teacher).
        device: where local models run.
        teacher_options: keyword options for the teacher's backend (``rule:`` factories, HTTP ``api_key_env``...).
        student_options: :class:`~fathom.train.SFTArgs` fields (``epochs``, ``learning_rate``, ``lora_rank``...)
            or, for ``logits``, :func:`~fathom.train._distill_logits.train_logits` options.
        kl_examples: kept examples held out to measure KL(teacher || student) before and after (local teachers).
        keep_cut_off: grade answers the teacher cut off at ``max_tokens`` instead of rejecting them (when only
            a prefix matters, e.g. prompts chosen for logit distillation, where the student samples its own).
        resume: continue an interrupted run in ``out`` (cached teacher answers, the student's checkpoints).
        progress: progress bars.

    Raises:
        ConfigError: bad arguments, a missing file, ``out`` already holding another run without ``resume``, a
            logits teacher that is not local or does not share the student's vocabulary.
        DataError: malformed examples, examples the grader cannot grade, or no answer passing the threshold.
    """
    from fathom._manifest import atomic_write_text
    from fathom.backends import check_prompt_file, load_backend
    from fathom.datasets import read_jsonl, write_jsonl
    from fathom.graders import build_grader

    started = time.perf_counter()
    problems = _check_threshold(threshold)
    if method not in METHODS:
        problems.append(Problem("--method", f"must be one of {', '.join(METHODS)}, got {method!r}"))
    if not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append(Problem("--max-tokens", f"must be at least 1, got {max_tokens!r}"))
    path = Path(data)
    if not path.is_file():
        problems.append(Problem("--data", f"{path} {'is a folder' if path.is_dir() else 'does not exist'}; pass a "
                                          f"JSON Lines file of prompts with references"))
    if problems:
        raise ConfigError(problems, title="cannot distil")
    grading = build_grader(grader) if isinstance(grader, str | dict) else grader
    grader_name = grader if isinstance(grader, str) else json.dumps(grader) if isinstance(grader, dict) else \
        str(getattr(grader, "name", None) or type(grader).__name__)
    check_prompt_file(path)
    examples = read_jsonl(path)
    check_examples(grading, examples, "--data")
    if method == "logits":
        from fathom.train._distill_logits import check_shared_vocabulary

        check_shared_vocabulary(teacher, student)
    root = Path(out).expanduser().resolve()
    student_dir, train_file = root / "student", root / "train.jsonl"
    sft_args = None
    if method == "sft":
        import dataclasses

        from fathom.train._args import SFTArgs

        fixed = {"model", "data", "eval_data", "out", "resume", "progress", "device"}
        _check_options(student_options or {}, [f.name for f in dataclasses.fields(SFTArgs) if f.name not in fixed],
                       "fathom train sft")
        sft_args = SFTArgs(model=student, data=str(train_file), eval_data=eval_data, out=str(student_dir),
                           resume=resume and student_dir.exists(), progress=progress, device=device,
                           **(student_options or {}))
        from fathom.train._setup import check_model

        check_model(sft_args)  # the student spec names a model that can be trained (nothing loads)
    else:
        import inspect

        from fathom.train._distill_logits import train_logits

        fixed = {"student", "teacher", "data", "out", "device", "progress", "resume"}
        _check_options(student_options or {}, [n for n in inspect.signature(train_logits).parameters
                                               if n not in fixed], "logit distillation")
    config = {"teacher": teacher, "student": student, "data": str(path.resolve()), "grader": grader_name,
              "threshold": threshold, "method": method, "max_tokens": max_tokens,
              "eval_data": str(eval_data) if eval_data else None, "teacher_options": teacher_options or {},
              "student_options": student_options or {}, "kl_examples": kl_examples,
              "keep_cut_off": keep_cut_off}
    _start(root, config, resume=resume)

    # 2-3. the teacher answers, the grader keeps or rejects
    engine = load_backend(teacher, parallel=parallel, device=device, **(teacher_options or {}))
    teacher_name = str(getattr(engine, "model_name", teacher))
    answers, cached = teach(engine, examples, root / "teacher" / "answers.jsonl", teacher=teacher,
                            max_tokens=max_tokens, progress=progress)
    del engine
    kept, rejected, scores = grade_teacher_answers(grading, examples, answers, threshold=threshold,
                                                   teacher=teacher_name, keep_cut_off=keep_cut_off)
    write_jsonl(root / "kept.jsonl", kept)
    write_jsonl(root / "rejected.jsonl", rejected)
    counts = Counter(r["reason"] for r in rejected)
    summary = TeacherSummary(
        teacher=teacher_name, grader=grader_name, threshold=threshold, prompts=len(examples), kept=len(kept),
        rejected=len(rejected), reasons={r: counts.get(r, 0) for r in REASONS},
        mean_score=round(sum(scores) / len(scores), 6) if scores else None, cached=cached,
        seconds=round(time.perf_counter() - started, 2), kept_file=str(root / "kept.jsonl"),
        rejected_file=str(root / "rejected.jsonl"))
    atomic_write_text(root / "teacher_summary.json", json.dumps(summary.to_dict(), indent=2) + "\n")
    if progress:
        print(summary.render(), file=sys.stderr, flush=True)  # before the student's long run starts
    if not kept:
        raise DataError([Problem("--threshold", f"no teacher answer scored {threshold} or more (mean "
                                                f"{summary.mean_score}); see {root / 'rejected.jsonl'} for why, "
                                                f"and lower --threshold or use a stronger teacher")],
                        title="nothing to distil")

    # 4. the student, on the kept answers less a few held out to measure KL to the teacher
    held = kept[-kl_examples:] if kl_examples and len(kept) > 2 * kl_examples else []
    write_jsonl(train_file, kept[:len(kept) - len(held)])
    if held:
        write_jsonl(root / "kl_heldout.jsonl", held)
    kl_before = _kl_if_local(teacher, student, held, device)
    if sft_args is not None:
        from fathom.train._sft import train_sft

        student_result = train_sft(sft_args).to_dict()
    else:
        from fathom.train._distill_logits import train_logits

        student_result = train_logits(student=student, teacher=teacher, data=train_file, out=student_dir,
                                      device=device, progress=progress, resume=resume and student_dir.exists(),
                                      **(student_options or {}))
    kl_after = _kl_if_local(teacher, str(student_dir), held, device) if kl_before is not None else None
    result = DistillResult(out=str(root), method=method, teacher=summary, student=str(student_dir),
                           student_result=student_result,
                           kl_to_teacher=None if kl_before is None or kl_after is None else
                           {"before": round(kl_before, 6), "after": round(kl_after, 6)},
                           seconds=round(time.perf_counter() - started, 2))
    atomic_write_text(root / "result.json", json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    return result


def _check_options(options: dict[str, Any], valid: list[str], what: str) -> None:
    """Every ``--student-option`` names an option of the student's training (checked before anything loads)."""
    from fathom.errors import did_you_mean

    problems = [Problem(f"--student-option {name}", f"not an option of {what}. {did_you_mean(name, valid)} "
                                                    f"Valid: {', '.join(sorted(valid))}.")
                for name in options if name not in valid]
    if problems:
        raise ConfigError(problems, title="invalid student options")


def _start(root: Path, config: dict[str, Any], *, resume: bool) -> None:
    """A new run folder, or the same run resumed (its arguments unchanged)."""
    from fathom._manifest import atomic_write_text

    args_file = root / ARGS_FILE
    if args_file.is_file():
        saved = json.loads(args_file.read_text(encoding="utf-8"))
        if not resume:
            raise ConfigError([Problem("--out", f"{root} already holds a distillation run; add --resume to "
                                                f"continue it, or pick another --out")], title="cannot distil")
        changed = [Problem("--" + k.replace("_", "-"), f"was {saved.get(k)!r} when the run started, now {v!r}; "
                                                       f"resume with the same arguments or use another --out")
                   for k, v in config.items() if saved.get(k) != v]
        if changed:
            raise ConfigError(changed, title="cannot resume")
        return
    if root.exists() and any(root.iterdir()):
        raise ConfigError([Problem("--out", f"{root} exists and is not empty; pick a new folder")],
                          title="cannot distil")
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args_file, json.dumps(config, indent=2) + "\n")


def _kl_if_local(teacher: str, student: str, held: list[dict[str, Any]], device: str | None) -> float | None:
    """Mean per-token KL(teacher || student) on ``held``, when both are local models with one vocabulary."""
    if not held:
        return None
    from fathom.train._distill_logits import kl_to_teacher, shared_vocabulary

    if not shared_vocabulary(teacher, student):
        return None
    return kl_to_teacher(teacher, student, held, device=device)
