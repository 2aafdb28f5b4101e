"""OpenAI ``python`` graders run in :class:`PythonSandbox`: a worker subprocess with a time limit, a
memory limit and no network or processes. A grader that loops forever, opens a socket, starts a
process, exceeds its memory, raises or returns a non-number is stopped with a clear GraderError
(or, with ``on_error="zero"``, scored 0 as OpenAI did). Time limits are kept small so the suite
stays fast."""

from __future__ import annotations

import copy
import pickle
import time
from collections.abc import Iterator

import pytest

from fathom.errors import ConfigError, GraderError
from fathom.graders import PythonSandbox, openai_grader

SAMPLE = {"output_text": "SW 5", "output_json": None, "output_tools": []}
ITEM = {"reference": {"text": "SW 5"}}


@pytest.fixture
def sandboxes() -> Iterator[list[PythonSandbox]]:
    made: list[PythonSandbox] = []
    yield made
    for sandbox in made:
        sandbox.close()


def make(sandboxes: list[PythonSandbox], body: str, **options: object) -> PythonSandbox:
    options = {"time_limit_s": 5.0, "memory_mb": 512, **options}
    sandbox = PythonSandbox(body, name="g", **options)  # type: ignore[arg-type]
    sandboxes.append(sandbox)
    return sandbox


def test_a_good_grader_scores_one_call_and_a_batch(sandboxes: list[PythonSandbox]) -> None:
    sandbox = make(sandboxes, "def grade(sample, item):\n"
                              "    return float(sample['output_text'] == item['reference']['text'])\n")
    assert sandbox(SAMPLE, ITEM).value == 1.0
    batch = sandbox.run_many([({**SAMPLE, "output_text": t}, ITEM) for t in ("SW 5", "NE 3", "SW 5")])
    assert [r.value for r in batch] == [1.0, 0.0, 1.0]


def test_an_endless_loop_is_stopped_at_the_time_limit(sandboxes: list[PythonSandbox]) -> None:
    sandbox = make(sandboxes, "def grade(sample, item):\n    if item.get('loop'):\n        while True:\n"
                              "            pass\n    return 0.5\n", time_limit_s=0.5)
    assert sandbox(SAMPLE, ITEM).value == 0.5  # the worker is up before the clock starts
    start = time.monotonic()
    with pytest.raises(GraderError, match=r"python grader 'g': grade\(\) did not return within 0.5 s"):
        sandbox(SAMPLE, {"loop": True})
    assert time.monotonic() - start < 3
    assert sandbox(SAMPLE, ITEM).value == 0.5  # a fresh worker after the kill


@pytest.mark.parametrize("body", [
    "import socket\ndef grade(sample, item):\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n",
    "import urllib.request\ndef grade(sample, item):\n    urllib.request.urlopen('http://example.com')\n",
    "import socket\ndef grade(sample, item):\n    try:\n        socket.socket()\n    except Exception:\n"
    "        pass\n    return 1.0\n",  # caught by the grader: still reported
])
def test_opening_a_socket_is_refused(sandboxes: list[PythonSandbox], body: str) -> None:
    with pytest.raises(GraderError, match=r"tried socket\.\S+ \(network access\), which is refused"):
        make(sandboxes, body)(SAMPLE, ITEM)


@pytest.mark.parametrize(("body", "event"), [
    ("import subprocess\ndef grade(sample, item):\n    subprocess.run(['true'])\n", "subprocess.Popen"),
    ("import os\ndef grade(sample, item):\n    os.system('true')\n", "os.system"),
    ("import os\ndef grade(sample, item):\n    os.fork()\n", "os.fork"),
    ("import _posixsubprocess\ndef grade(sample, item):\n    _posixsubprocess.fork_exec()\n",
     "_posixsubprocess.fork_exec"),
    ("import ctypes\ndef grade(sample, item):\n    return ctypes.CDLL(None).getpid()\n", "ctypes.dlsym"),
    ("import resource\ndef grade(sample, item):\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n",
     "resource.setrlimit"),
])
def test_processes_native_code_and_limits_are_refused(sandboxes: list[PythonSandbox], body: str, event: str) -> None:
    with pytest.raises(GraderError, match=f"tried {event} "):
        make(sandboxes, body)(SAMPLE, ITEM)


def test_the_memory_limit_stops_a_grader(sandboxes: list[PythonSandbox]) -> None:
    sandbox = make(sandboxes, "def grade(sample, item):\n    block = bytearray(1024 * 1024 * 1024)\n"
                              "    return 1.0\n", memory_mb=256)
    with pytest.raises(GraderError, match=r"exceeded the memory limit \(256 MiB"):
        sandbox(SAMPLE, ITEM)


def test_an_exception_is_loud_with_its_traceback_unless_scored_zero(sandboxes: list[PythonSandbox]) -> None:
    body = "import json\ndef grade(sample, item):\n    return json.loads(sample['output_text'])['score']\n"
    with pytest.raises(GraderError, match=r"(?s)grade\(\) raised JSONDecodeError.*line 3, in grade.*"
                                          r"python_on_error: zero"):
        make(sandboxes, body)(SAMPLE, ITEM)
    result = make(sandboxes, body, on_error="zero")(SAMPLE, ITEM)
    assert result.value is None and result.error.startswith("JSONDecodeError")


@pytest.mark.parametrize("value", ["'high'", "None", "float('nan')", "[1.0]"])
def test_a_non_number_is_an_error(sandboxes: list[PythonSandbox], value: str) -> None:
    with pytest.raises(GraderError, match="it must return a finite number"):
        make(sandboxes, f"def grade(sample, item):\n    return {value}\n")(SAMPLE, ITEM)


def test_print_is_harmless_and_the_environment_is_clean(sandboxes: list[PythonSandbox],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FATHOM_TEST_SECRET", "sk-123")
    body = ("import os\nprint('loading')\ndef grade(sample, item):\n    print('grading', sample)\n"
            "    return 0.0 if 'FATHOM_TEST_SECRET' in os.environ else 0.75\n")
    assert make(sandboxes, body)(SAMPLE, ITEM).value == 0.75


def test_a_source_that_fails_to_load_is_reported(sandboxes: list[PythonSandbox]) -> None:
    with pytest.raises(GraderError, match=r"the source failed to load: ModuleNotFoundError"):
        make(sandboxes, "import no_such_module_xyz\ndef grade(sample, item):\n    return 1\n")(SAMPLE, ITEM)


@pytest.mark.parametrize(("source", "message"), [
    ("def grade(sample, item)\n    return 1\n", "does not compile"),
    ("def score(sample, item):\n    return 1\n", "defines no top-level function `grade"),
    ("def grade(sample):\n    return 1\n", "must take two arguments"),
    ("def grade(s, i):\n    return 1\n" + "#" * 300_000, r"the limit is 262,144 \(256 kB\)"),
])
def test_bad_sources_are_config_errors_before_anything_runs(source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PythonSandbox(source)


def test_copies_and_pickles_start_their_own_worker(sandboxes: list[PythonSandbox]) -> None:
    sandbox = make(sandboxes, "def grade(sample, item):\n    return 0.25\n")
    assert sandbox(SAMPLE, ITEM).value == 0.25
    for clone in (copy.deepcopy(sandbox), pickle.loads(pickle.dumps(sandbox))):
        sandboxes.append(clone)
        assert clone(SAMPLE, ITEM).value == 0.25


def test_through_openai_grader_the_values_clip_and_errors_score_zero_on_request() -> None:
    config = {"type": "python", "name": "len", "source": "def grade(sample, item):\n"
                                                         "    return len(sample['output_text']) / 2\n"}
    grader = openai_grader(config, python_time_limit_s=5)
    strict = openai_grader({**config, "source": "def grade(sample, item):\n    raise ValueError('no')\n"},
                           python_on_error="zero")
    try:
        grade = grader({}, "SW 5")
        assert (grade.score, grade.components) == (1.0, {"len": 1.0, "raw": 2.0})
        failed = strict({}, "x")
        assert (failed.score, failed.components["error"]) == (0.0, 1.0) and "ValueError: no" in failed.reason
    finally:
        grader.close()
        strict.close()
