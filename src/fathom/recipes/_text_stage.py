"""The ``general_text`` recipe stage: English prose every Python installation has, for mixing into continued
pre-training and for measuring general perplexity before and after.

CPT needs general text twice: mixed into training (against forgetting) and held out (to see forgetting as a
rise in perplexity). Real users point ``--mix`` at their own general corpus (a Wikipedia or FineWeb
sample). A recipe that must run offline, on a fresh machine, with nothing downloaded, has one source of real
English prose that is always there: the documentation strings of Python's standard library (about 50,000
words, written by people, on every subject the library covers). This stage writes them as a JSON Lines corpus
(one ``text`` per module, class or function docstring of at least ``min_chars`` characters, duplicates
dropped, in a fixed order), so the same Python version gives the same file. No maintained package ships an
offline general corpus (``datasets`` and ``nltk`` download theirs), hence this small stage.

It is technical prose, not a general web sample: a figure measured on it says "text unlike the domain's",
and the recipe header says so.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from fathom.recipes._stages import StageContext

__all__ = ["MODULES", "general_text_stage", "stdlib_docstrings"]

MODULES = (
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "cmath", "cmd",
    "codecs", "collections", "colorsys", "configparser", "contextlib", "copy", "csv", "ctypes", "dataclasses",
    "datetime", "decimal", "difflib", "dis", "doctest", "email", "enum", "fnmatch", "fractions", "ftplib",
    "functools", "getopt", "gettext", "glob", "graphlib", "gzip", "hashlib", "heapq", "hmac", "html",
    "http.client", "imaplib", "inspect", "io", "ipaddress", "itertools", "json", "locale", "logging", "lzma",
    "mailbox", "math", "mmap", "numbers", "operator", "optparse", "os", "pathlib", "pdb", "pickle", "poplib",
    "pprint", "queue", "random", "re", "sched", "secrets", "selectors", "shlex", "shutil", "signal", "smtplib",
    "socket", "sqlite3", "ssl", "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap",
    "threading", "time", "timeit", "tokenize", "tomllib", "trace", "traceback", "typing", "unicodedata",
    "unittest", "urllib.request", "uuid", "warnings", "wave", "weakref", "xml.etree.ElementTree", "zipfile",
    "zoneinfo",
)
"""The modules read, in order (each one's own docstring first, then its public classes and functions by name)."""


def stdlib_docstrings(min_chars: int = 300, modules: tuple[str, ...] = MODULES) -> list[str]:
    """The standard library's docstrings of at least ``min_chars`` characters, each once, in a fixed order."""
    seen: set[str] = set()
    texts: list[str] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a Python built without it (e.g. no _ssl, no _sqlite3)
            continue
        objects = [module] + [obj for attr, obj in sorted(vars(module).items())
                              if not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                              and getattr(obj, "__module__", "") == module.__name__]
        for obj in objects:
            doc = inspect.getdoc(obj)
            if doc and len(doc) >= min_chars and doc not in seen:
                seen.add(doc)
                texts.append(doc)
    return texts


def general_text_stage(ctx: StageContext, min_chars: int = 300) -> dict[str, Any]:
    """Write ``general.jsonl`` (``{"text": ...}`` rows: the standard library's docstrings) into the stage folder."""
    from fathom.datasets import write_jsonl
    from fathom.errors import ConfigError, Problem

    if min_chars < 1:
        raise ConfigError([Problem("min_chars", f"must be at least 1, got {min_chars}")])
    texts = stdlib_docstrings(min_chars)
    path = write_jsonl(ctx.out_dir / "general.jsonl", [{"text": t} for t in texts])
    words = sum(len(t.split()) for t in texts)
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(f"general text: {len(texts)} docstrings, {words} words from the Python "
                                   f"{sys.version_info.major}.{sys.version_info.minor} standard library -> {path}")
    return {"corpus": str(path), "documents": len(texts), "words": words}


general_text_stage.outputs = ("corpus", "documents", "words")  # type: ignore[attr-defined]
