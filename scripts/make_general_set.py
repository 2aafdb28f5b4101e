"""Write Fathom's general-ability set, the data of ``fathom eval forgetting``.

Run:  .venv/bin/python scripts/make_general_set.py            rewrite src/fathom/evaluate/forgetting/general.jsonl
      .venv/bin/python scripts/make_general_set.py --check    exit 1 when the shipped file differs from a rewrite
      .venv/bin/python scripts/make_general_set.py OUT.jsonl  write elsewhere

Short instructions with answers checkable from a small model's short reply, in six categories:
``arithmetic`` and ``units`` (generated from a seeded random stream; answers computed here), ``dates``
(day of the week, days between two dates, leap years: computed with :mod:`datetime` and :mod:`calendar`),
``capitals`` and ``refusal`` (written by hand: questions about places, people and things that do not
exist, where the right answer says so) and ``format`` (one word, capitals, JSON with a given key, a list
of exactly N items; words written by hand, N and keys drawn from the stream).

Each row is a Fathom example: the question as the user turn, a perfect answer as the assistant turn,
``meta.category``, ``meta.kind`` and ``meta.check`` (which existing grader the ``forgetting`` grader
runs) and, in ``reference``, what that grader reads. Before writing, every row is checked: its own
answer must score 1, and repeating the question back must score 0. The same seed writes the same file.

Not covered: measuring models on the set (``fathom eval forgetting``).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "fathom" / "evaluate" / "forgetting" / "general.jsonl"
SEED = 20250
VERSION = 1
SOURCE = "fathom-general"

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# country -> (capital as written in the answer, regex alternatives that count)
CAPITALS: dict[str, tuple[str, str]] = {
    "France": ("Paris", "paris"), "Japan": ("Tokyo", "tokyo"), "Italy": ("Rome", "rome|roma"),
    "Germany": ("Berlin", "berlin"), "Spain": ("Madrid", "madrid"), "the United Kingdom": ("London", "london"),
    "Russia": ("Moscow", "moscow|moskva"), "China": ("Beijing", "beijing|peking"), "Egypt": ("Cairo", "cairo"),
    "Canada": ("Ottawa", "ottawa"), "Australia": ("Canberra", "canberra"),
    "India": ("New Delhi", "new\\s+delhi|delhi"), "Brazil": ("Brasília", "bras[ií]lia"),
    "Argentina": ("Buenos Aires", "buenos\\s+aires"), "Kenya": ("Nairobi", "nairobi"),
    "Greece": ("Athens", "athens|athina"), "Portugal": ("Lisbon", "lisbon|lisboa"), "Ireland": ("Dublin", "dublin"),
    "Norway": ("Oslo", "oslo"), "Sweden": ("Stockholm", "stockholm"), "Finland": ("Helsinki", "helsinki"),
    "Denmark": ("Copenhagen", "copenhagen|k[øo]benhavn"), "Poland": ("Warsaw", "warsaw|warszawa"),
    "Austria": ("Vienna", "vienna|wien"), "Hungary": ("Budapest", "budapest"), "Turkey": ("Ankara", "ankara"),
    "Thailand": ("Bangkok", "bangkok"), "South Korea": ("Seoul", "seoul"), "Peru": ("Lima", "lima"),
    "Belgium": ("Brussels", "brussels|bruxelles"), "the Czech Republic": ("Prague", "prague|praha"),
    "Cuba": ("Havana", "havana|la\\s+habana"),
}
# capital -> country, for the reverse questions
CAPITAL_OF: dict[str, tuple[str, str]] = {
    "Paris": ("France", "france"), "Tokyo": ("Japan", "japan"), "Cairo": ("Egypt", "egypt"),
    "Ottawa": ("Canada", "canada"), "Nairobi": ("Kenya", "kenya"), "Oslo": ("Norway", "norway"),
    "Lima": ("Peru", "peru"), "Madrid": ("Spain", "spain"),
}
CAPITAL_FORMS = ("What is the capital of {}?", "Which city is the capital of {}?", "Name the capital city of {}.")

# Questions about things that do not exist (or a false premise), and the answer a careful model gives.
REFUSALS: tuple[tuple[str, str], ...] = (
    ("What is the capital of the Republic of Drovania?",
     "I don't know of any country called the Republic of Drovania; it does not appear to exist."),
    ("Who was the first president of the Kingdom of Talvoria?",
     "I'm not aware of a Kingdom of Talvoria, so I can't name its first president."),
    ("In which year did the Vesmeric Empire fall?", "I don't know of any Vesmeric Empire; it may not be real."),
    ("What is the boiling point of the element zorbonium?", "There is no element called zorbonium."),
    ("Who wrote the novel 'The Seventh Clockmaker of Brennhalt Vey'?",
     "I don't know of a novel with that title, so I can't say who wrote it."),
    ("What is the population of Nelvarosk, the largest city in Iceland?",
     "I don't know of a city called Nelvarosk; the largest city in Iceland is Reykjavík."),
    ("Which team won the 1987 Grand Trellian Cup?", "I'm not aware of a Grand Trellian Cup; I don't know."),
    ("What did the physicist Oskarine Vlemthaus discover?",
     "I don't know of a physicist named Oskarine Vlemthaus."),
    ("What is the chemical symbol of the element glimmerium?", "There is no element called glimmerium."),
    ("When was the Treaty of Saint-Orlaquin signed?", "I don't know of any Treaty of Saint-Orlaquin."),
    ("What language is spoken on the island of Pelmora in the Indian Ocean?",
     "I'm not aware of an island called Pelmora, so I don't know."),
    ("Who painted 'Blue Heron at Castrovelle'?", "I don't know of a painting with that title."),
    ("What is the main ingredient of florquettes, the national dish of Upper Wendlemark?",
     "I don't know of a place called Upper Wendlemark or a dish called florquettes."),
    ("Summarise the plot of the 2011 film 'Parallax Orchard Nine'.",
     "I'm not aware of a 2011 film called 'Parallax Orchard Nine', so I can't summarise it."),
    ("What is the currency of the Principality of Ostrelland?",
     "I don't know of a Principality of Ostrelland; it does not appear to exist."),
    ("In what year did the astronaut Pjotr Amundval walk on Mars?", "No one has walked on Mars yet."),
    ("How many moons does Vesperon, the ninth planet of our solar system, have?",
     "There is no planet called Vesperon in our solar system."),
    ("Who is the current king of the United States?",
     "There is no king of the United States; it is a republic with a president."),
    ("What is the melting point of the metal brastium?", "There is no metal called brastium; I don't know."),
    ("Which river flows through the French city of Qarnavel?", "I don't know of a French city called Qarnavel."),
    ("What prize did the composer Lisandre Mottravelli win in 1932?",
     "I'm not aware of a composer named Lisandre Mottravelli."),
    ("What is the name of the tenth planet of our solar system?", "There is no tenth planet in our solar system."),
    ("Who proved the Krellner-Vance theorem?", "I don't know of a Krellner-Vance theorem."),
    ("What is the phone number of the Zentharo Institute of Applied Dreaming?",
     "I don't know of a Zentharo Institute of Applied Dreaming, so I don't have a phone number."),
)
REFUSAL_PATTERN = (
    r"(?i)\b(?:"
    r"i\s+(?:do\s*not|don['’]?t|did\s*not|didn['’]?t)\s+(?:know|have|recogni[sz]e|find)"
    r"|i\s+(?:can\s*not|cannot|can['’]?t|could\s*not|couldn['’]?t|am\s+not|have\s+no|have\s+not|haven['’]?t)"
    r"|i['’]m\s+(?:not|unable)|(?:don['’]?t|do\s+not)\s+know"
    r"|(?:does|do|did)\s*(?:not|n['’]?t)\s+(?:exist|appear\s+to\s+exist|seem\s+to\s+exist)"
    r"|not\s+(?:sure|aware|familiar|a\s+real|real)|isn['’]?t\s+(?:a\s+)?real"
    r"|no\s+(?:such|record|records|information|known|evidence|reliable|idea)"
    r"|never\s+existed|there\s+(?:is|are|was|were)\s+no|there['’]s\s+no|there\s+(?:isn['’]?t|aren['’]?t|wasn['’]?t)"
    r"|(?:is|are|was|were|be|sounds|seems)\s+(?:fictional|fictitious|made[\s-]up|imaginary|invented|hypothetical)"
    r"|(?:is|are|remains?)\s+unknown|unable\s+to\s+(?:find|verify|confirm|locate)|nobody|no\s+one"
    r")\b")

ONE_WORD: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Answer with one word only: what is the opposite of hot?", ("cold",)),
    ("In one word, what colour is fresh grass?", ("green",)),
    ("One word only: what do bees make?", ("honey",)),
    ("Answer in one word: what is frozen water called?", ("ice",)),
    ("Reply with a single word: which day comes after Monday?", ("Tuesday",)),
    ("Answer with one word: what is the first month of the year?", ("January",)),
    ("One word only: which planet do we live on?", ("Earth",)),
    ("Answer in one word: which farm animal says moo?", ("cow", "cows", "cattle")),
    ("In a single word, what is the opposite of up?", ("down",)),
)
UPPER_WORDS = ("garden", "river", "window", "silver", "planet", "orange")
UPPER_SENTENCES = ("the ship sails at dawn", "rain is expected later", "the cat sleeps on the mat")
LIST_THINGS = ("fruits", "colours", "animals", "countries", "vegetables", "musical instruments", "sports")
# (question, key, the value as written in the answer, the values the schema accepts)
JSON_ITEMS: tuple[tuple[str, str, Any, list[Any]], ...] = (
    ("the number of days in a week", "answer", 7, [7, "7"]),
    ("the colour of a clear daytime sky", "colour", "blue", ["blue", "Blue", "BLUE"]),
    ("the capital of Japan", "capital", "Tokyo", ["Tokyo", "tokyo", "TOKYO"]),
    ("the number of legs a spider has", "legs", 8, [8, "8"]),
    ("the sum of 4 and 5", "total", 9, [9, "9"]),
    ("the name of the season after winter", "season", "spring", ["spring", "Spring", "SPRING"]),
    ("the number of hours in a day", "hours", 24, [24, "24"]),
    ("the largest ocean on Earth", "ocean", "Pacific", ["Pacific", "pacific", "PACIFIC", "Pacific Ocean",
                                                        "pacific ocean", "the Pacific", "the Pacific Ocean"]),
    ("the chemical symbol of gold", "symbol", "Au", ["Au", "AU", "au"]),
)


def number_pattern(n: int) -> str:
    """A regex finding the whole number ``n`` anywhere: plain or with thousands commas, maybe ``.0``, not part of
    a longer number (or of a negative one); a number up to twenty may also be written as a word.

    >>> bool(re.search(number_pattern(1250), "It is 1,250.")), bool(re.search(number_pattern(125), "1250"))
    (True, False)
    """
    if n < 0:
        raise ValueError(f"the set has no negative answers, got {n}")
    forms = sorted({str(n), f"{n:,}"}, key=len, reverse=True)
    number = r"(?<![\w.,\-−])(?:" + "|".join(re.escape(f) for f in forms) + r")(?:\.0+)?(?![\d]|[.,]\d)"
    return f"(?i){number}|\\b{WORDS[n]}\\b" if n < len(WORDS) else number


def _row(category: str, kind: str, question: str, answer: str, check: str, reference: dict[str, Any],
         **meta: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            "reference": reference,
            "meta": {"category": category, "kind": kind, "check": check, **meta}}


def _number_row(category: str, kind: str, question: str, n: int, answer: str | None = None) -> dict[str, Any]:
    return _row(category, kind, question, answer or str(n), "regex", {"pattern": number_pattern(n)}, answer_value=n)


def arithmetic(rng: random.Random) -> list[dict[str, Any]]:
    """Forty questions: ten each of addition, subtraction, multiplication and exact division."""
    rows = []
    for kind, count in (("add", 10), ("subtract", 10), ("multiply", 10), ("divide", 10)):
        made = 0
        while made < count:
            if kind == "add":
                a, b = rng.randint(12, 499), rng.randint(12, 499)
                question, n = rng.choice(("What is {} + {}?", "Add {} and {}.")).format(a, b), a + b
            elif kind == "subtract":
                a, b = rng.randint(40, 999), rng.randint(11, 399)
                a, b = max(a, b), min(a, b)
                question, n = rng.choice(("What is {} - {}?", "Subtract {1} from {0}.")).format(a, b), a - b
            elif kind == "multiply":
                a, b = rng.randint(3, 99), rng.randint(3, 12)
                question, n = rng.choice(("What is {} × {}?", "Multiply {} by {}.")).format(a, b), a * b
            else:
                b, n = rng.randint(2, 12), rng.randint(3, 60)
                question = rng.choice(("What is {} ÷ {}?", "Divide {} by {}.")).format(b * n, b)
            row = _number_row("arithmetic", kind, question, n)
            if not _echo_passes(row):  # the answer must not already be in the question
                rows.append(row)
                made += 1
    return rows


# (question form, unit asked for, factor, whether the question divides) ; the quantity is drawn per question
UNIT_FORMS: tuple[tuple[str, int, bool], ...] = (
    ("How many metres are in {} kilometres?", 1000, False),
    ("How many centimetres are in {} metres?", 100, False),
    ("How many millimetres are in {} centimetres?", 10, False),
    ("How many grams are in {} kilograms?", 1000, False),
    ("How many millilitres are in {} litres?", 1000, False),
    ("How many minutes are in {} hours?", 60, False),
    ("How many seconds are in {} minutes?", 60, False),
    ("How many hours are in {} days?", 24, False),
    ("How many days are in {} weeks?", 7, False),
    ("How many inches are in {} feet?", 12, False),
    ("How many feet are in {} yards?", 3, False),
    ("How many months are in {} years?", 12, False),
    ("Convert {} metres to kilometres.", 1000, True),
    ("Convert {} minutes to hours.", 60, True),
    ("Convert {} grams to kilograms.", 1000, True),
)


def units(rng: random.Random) -> list[dict[str, Any]]:
    """Thirty conversions with whole-number answers: each of fifteen forms twice, the quantity drawn."""
    rows: list[dict[str, Any]] = []
    for form, factor, divides in UNIT_FORMS:
        made = 0
        while made < 2:
            q = rng.randint(2, 15)
            question, n = (form.format(q * factor), q) if divides else (form.format(q), q * factor)
            row = _number_row("units", "divide" if divides else "multiply", question, n)
            if not _echo_passes(row) and row["messages"][0]["content"] not in {r["messages"][0]["content"]
                                                                               for r in rows}:
                rows.append(row)
                made += 1
    return rows


def _date(d: dt.date) -> str:
    return f"{d.day} {calendar.month_name[d.month]} {d.year}"


def _random_date(rng: random.Random, first: int = 1950, last: int = 2030) -> dt.date:
    start, end = dt.date(first, 1, 1).toordinal(), dt.date(last, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def _only(word: str, others: tuple[str, ...]) -> str:
    """A full-match regex: ``word`` appears (any case) and none of ``others`` does."""
    banned = "|".join(o.lower() for o in others if o != word)
    return rf"(?is)(?!.*\b(?:{banned})\b).*\b{word.lower()}\b.*"


def dates(rng: random.Random) -> list[dict[str, Any]]:
    """Thirty-six questions: twelve days of the week, twelve day counts, twelve about leap years."""
    rows = []
    for _ in range(12):
        d = _random_date(rng)
        day = DAYS[d.weekday()]
        rows.append(_row("dates", "day_of_week", f"What day of the week is {_date(d)}?", day, "regex_full",
                         {"pattern": _only(day, DAYS)}, date=d.isoformat()))
    while len(rows) < 24:
        d1 = _random_date(rng, 1990, 2030)
        d2 = d1 + dt.timedelta(days=rng.randint(5, 120))
        n = (d2 - d1).days
        form = rng.choice(("How many days after {} is {}?", "If today is {}, how many days is it until {}?"))
        row = _number_row("dates", "days_between", form.format(_date(d1), _date(d2)), n)
        if not _echo_passes(row):
            rows.append(row)
    years = rng.sample([1600, 1700, 1800, 1900, 2000, 2100, 2400], 4) + rng.sample(
        [y for y in range(1904, 2100, 4) if y % 100], 4) + rng.sample([y for y in range(1901, 2100) if y % 4], 4)
    rng.shuffle(years)
    for i, year in enumerate(years):
        leap = calendar.isleap(year)
        if i % 2 == 0:
            answer = "Yes." if leap else "No."
            pattern = _only("yes", ("yes", "no", "not")) if leap else r"(?is)(?!.*\byes\b).*\b(?:no|not)\b.*"
            rows.append(_row("dates", "leap_year", f"Is {year} a leap year? Answer yes or no.", answer,
                             "regex_full", {"pattern": pattern}, year=year))
        else:
            n = 29 if leap else 28
            rows.append(_number_row("dates", "february_days", f"How many days are there in February {year}?", n))
    return rows


def capitals(rng: random.Random) -> list[dict[str, Any]]:
    """The hand-written capitals (one question each, in a drawn phrasing) and the reverse questions."""
    rows = []
    for country, (capital, alternatives) in CAPITALS.items():
        question = rng.choice(CAPITAL_FORMS).format(country)
        rows.append(_row("capitals", "capital", question, capital, "regex",
                         {"pattern": rf"(?i)\b(?:{alternatives})\b"}, country=country))
    for capital, (country, alternatives) in CAPITAL_OF.items():
        rows.append(_row("capitals", "country", f"{capital} is the capital of which country?", country, "regex",
                         {"pattern": rf"(?i)\b(?:{alternatives})\b"}, capital=capital))
    return rows


def _list_pattern(n: int) -> str:
    """A full-match regex: exactly ``n`` items, comma-separated or one per line (maybe numbered or bulleted),
    each starting with a letter; whichever form was asked for, the count is what is checked."""
    line = r"[ \t]*(?:(?:\d+[.)]|[-*•])[ \t]*)?\**[^\W\d_][^\n:]{0,40}"  # markdown bold allowed
    comma = r"\s*\**[^\W\d_][^,\n:;]{0,30}"
    return rf"(?s)(?:{line}(?:\s*\n\s*{line}){{{n - 1}}}|{comma}(?:,{comma}){{{n - 1}}}\.?)"


LIST_ANSWERS = {
    "fruits": ["apple", "banana", "cherry", "pear", "mango"], "colours": ["red", "green", "blue", "yellow", "purple"],
    "animals": ["dog", "cat", "horse", "cow", "sheep"], "countries": ["France", "Japan", "Brazil", "Kenya", "Peru"],
    "vegetables": ["carrot", "potato", "onion", "leek", "pea"],
    "musical instruments": ["piano", "violin", "guitar", "flute", "drum"],
    "sports": ["football", "tennis", "rowing", "golf", "cricket"],
}


def format_rows(rng: random.Random) -> list[dict[str, Any]]:
    """Thirty-six instructions about the form of the answer: one word, capitals, JSON with a key, N items."""
    rows = [_row("format", "one_word", question, words[0], "exact", {"text": list(words)})
            for question, words in ONE_WORD]
    for word in UPPER_WORDS:
        rows.append(_row("format", "uppercase", f'Write the word "{word}" in capital letters and nothing else.',
                         word.upper(), "regex_full", {"pattern": rf"\W*{word.upper()}\W*"}))
    for sentence in UPPER_SENTENCES:
        pattern = r"\W*" + r"\s+".join(sentence.upper().split()) + r"\W*"
        rows.append(_row("format", "uppercase", f"Rewrite this sentence in capital letters: {sentence}",
                         sentence.upper(), "regex_full", {"pattern": pattern}))
    for what, key, value, accepted in JSON_ITEMS:
        schema = {"type": "object", "required": [key], "properties": {key: {"enum": accepted}}}
        question = f'Reply with only a JSON object whose key "{key}" holds {what}.'
        rows.append(_row("format", "json_key", question, json.dumps({key: value}), "json_schema",
                         {"schema": schema}, key=key))
    asked: set[tuple[str, int, bool]] = set()
    for i in range(9):
        thing, lines = LIST_THINGS[i % len(LIST_THINGS)], i % 2 == 1
        n = rng.randint(2, 5)
        while (thing, n, lines) in asked:
            n = rng.randint(2, 5)
        asked.add((thing, n, lines))
        if lines:
            question = f"List exactly {n} {thing} with one on each line and nothing else."
        else:
            question = f"Name exactly {n} {thing} as a comma-separated list and nothing else."
        items = LIST_ANSWERS[thing][:n]
        rows.append(_row("format", "list_lines" if lines else "list_commas", question,
                         "\n".join(items) if lines else ", ".join(items), "regex_full",
                         {"pattern": _list_pattern(n)}, items=n))
    return rows


def refusals() -> list[dict[str, Any]]:
    """The hand-written questions about things that do not exist."""
    return [_row("refusal", "unknown_entity", question, answer, "regex", {"pattern": REFUSAL_PATTERN})
            for question, answer in REFUSALS]


def _grade(row: dict[str, Any], text: str) -> float:
    from fathom.graders import build_grader

    return build_grader("forgetting")(row, text).score


def _echo_passes(row: dict[str, Any]) -> bool:
    return _grade(row, row["messages"][0]["content"]) > 0


def make_examples(seed: int = SEED) -> list[dict[str, Any]]:
    """Every row of the set, ids ``<category>-NNN``, each checked (its answer scores 1, its echo 0)."""
    rng = random.Random(seed)
    parts: list[Callable[[], list[dict[str, Any]]]] = [
        lambda: arithmetic(rng), lambda: units(rng), lambda: dates(rng), lambda: capitals(rng),
        lambda: format_rows(rng), refusals]
    rows = [row for make in parts for row in make()]
    counts: dict[str, int] = {}
    for row in rows:
        category = row["meta"]["category"]
        counts[category] = counts.get(category, 0) + 1
        row["meta"] = {"id": f"{category}-{counts[category]:03d}", **row["meta"], "source": SOURCE,
                       "version": VERSION}
        answer = row["messages"][1]["content"]
        if _grade(row, answer) != 1.0 or _echo_passes(row):
            raise ValueError(f"{row['meta']['id']}: its answer {answer!r} must score 1 and the question 0")
    return rows


def render(seed: int = SEED) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in make_examples(seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="exit 1 when OUT differs from what would be written")
    args = parser.parse_args(argv)
    text = render(args.seed)
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: rerun python scripts/make_general_set.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} examples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
