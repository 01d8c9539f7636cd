"""Dialogue evaluation: scripted customers talk to the agent on τ²-bench retail tasks.

Each task gets a fresh copy of the τ² store and a rule-based customer driven by what the agent says it
awaits (identity → who they are, order_id → which order, payment_method → how to pay, confirmation →
"yes", anything else → the request's details; when the agent awaits nothing, the parts of the request
not said yet, then goodbye). A task succeeds when the store afterwards equals the benchmark's final
state (``expected_train.json``, or the gold actions replayed when a task has no entry there) and every
``communicate_info`` string appeared in some reply.

Runs after the first vary the customer (a paraphrased opening, answers reworded with lead-ins and
contractions made or undone, other words for yes and goodbye) and
speak every message the way a speech recogniser writes it (lower case, no punctuation, numbers in
words, ids and emails spelled out), deterministically per (task, run), so pass^k measures robustness
rather than luck.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from shopagent.agent.store.db import create_engine
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2, import_tau2, replay
from shopagent.agent.turn import TurnInput, TurnResult

REQUIRED_KEYS = ("identity", "opening", "order", "payment", "details")
_LISTS = ("followups", "paraphrases")
MAX_TURNS = 24
_ANSWER_KEY = {"identity": "identity", "order_id": "order", "payment_method": "payment"}
_YES = ("yes", "yes please", "yes, go ahead", "yeah, do it", "sure, go ahead")
_BYE = ("That's all, thank you.", "That's everything, thanks.", "Nothing else, thank you.")
_FILLERS = ("um", "uh", "so", "well")
_LEAD_INS = ("", "", "Sure, ", "Okay, ", "Right, ", "Yes, ")
_CONTRACTIONS = (("I am", "I'm"), ("it is", "it's"), ("do not", "don't"), ("I would", "I'd"), ("that is", "that's"),
                 ("I have", "I've"), ("I will", "I'll"), ("does not", "doesn't"), ("cannot", "can't"))


class Agent(Protocol):
    """What the harness talks to: :class:`~shopagent.agent.agents.ShopAgent`, or a stand-in in tests."""

    def handle(self, turn: TurnInput) -> TurnResult: ...


AgentFactory = Callable[[Shop], Agent]


# --- customers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """A scripted customer: what they say first and how they answer each kind of question."""

    identity: str
    opening: str
    order: str
    payment: str
    details: str
    followups: tuple[str, ...] = ()  # later requests, said one by one when the agent awaits nothing
    paraphrases: tuple[str, ...] = ()  # other openings, for runs after the first


def packaged_users() -> Path:
    return Path(str(resources.files("shopagent.agent").joinpath("data/eval/tau2_users.json")))


def load_customers(path: Path) -> dict[str, Customer]:
    """Customers by task id; the five answer keys are required, the lists optional."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    customers, problems = {}, []
    for task_id, entry in data.items():
        entry = entry if isinstance(entry, dict) else {}
        missing = [k for k in REQUIRED_KEYS if not isinstance(entry.get(k), str) or not entry[k].strip()]
        unknown = sorted(set(entry) - {*REQUIRED_KEYS, *_LISTS})
        bad_lists = [k for k in _LISTS if not _texts(entry.get(k, []))]
        if missing or unknown or bad_lists:
            problems.append(f"{task_id}: missing {missing}, unknown {unknown}, not lists of text {bad_lists}")
            continue
        lists = {k: tuple(entry.get(k, ())) for k in _LISTS}
        customers[task_id] = Customer(**{k: entry[k] for k in REQUIRED_KEYS}, **lists)
    if problems:
        raise ValueError(f"{path}: bad customers:\n  " + "\n  ".join(problems))
    return customers


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) and x.strip() for x in value)


class Responder:
    """One customer in one run: answers the agent's ``awaiting`` from the script."""

    def __init__(self, customer: Customer, task_id: str, run: int) -> None:
        self.customer = customer
        self.run = run
        self.rng = random.Random(f"{task_id}:{run}")
        self.unsaid = [customer.details, *customer.followups]  # parts of the request not said yet
        self.done = False

    def opening(self) -> str:
        options = self.customer.paraphrases
        text = options[(self.run - 1) % len(options)] if self.run and options else self.customer.opening
        return self._say(text)

    def answer(self, result: TurnResult) -> str | None:
        """The next message, or None when the customer has finished."""
        if self.done or result.handoff:
            return None
        if result.awaiting == "confirmation":
            return self._say(self.rng.choice(_YES) if self.run else "yes")
        if result.awaiting != "none":
            text = getattr(self.customer, _ANSWER_KEY.get(result.awaiting, "details"))
            if text in self.unsaid:
                self.unsaid.remove(text)
            return self._say(self._reword(text))
        if self.unsaid:
            return self._say(self._reword(self.unsaid.pop(0)))
        self.done = True
        return self._say(self.rng.choice(_BYE) if self.run else _BYE[0])

    def _reword(self, text: str) -> str:
        """The same answer in other words after the first run: a lead-in, contractions made or undone."""
        if not self.run:
            return text
        expand = self.rng.random() < 0.5
        for long, short in _CONTRACTIONS:
            said, other = (short, long) if expand else (long, short)
            text = re.sub(rf"\b{re.escape(said)}\b", other, text, flags=re.IGNORECASE)
        return self.rng.choice(_LEAD_INS) + text

    def _say(self, text: str) -> str:
        if not self.run:
            return text
        spoken = speak(text)
        return f"{self.rng.choice(_FILLERS)} {spoken}" if self.rng.random() < 0.25 else spoken


# --- speech-like noise ----------------------------------------------------------------------------

_DIGITS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\$?(?<![\d.])\d+(?:\.\d+)?")


def number_words(n: int) -> str:
    """0 … 9999 in words ("one thousand one hundred fifty")."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        return _TENS[n // 10] + (f" {_DIGITS[n % 10]}" if n % 10 else "")
    if n < 1000:
        return f"{_DIGITS[n // 100]} hundred" + (f" {number_words(n % 100)}" if n % 100 else "")
    return f"{number_words(n // 1000)} thousand" + (f" {number_words(n % 1000)}" if n % 1000 else "")


def _spell(digits: str) -> str:
    return " ".join(_DIGITS[int(d)] for d in digits)


def speak(text: str) -> str:
    """How a speech recogniser would write the message: lower case, no punctuation, numbers as
    words; ids, zips and emails spelled out ("w two three …", "name dot x at example dot com")."""

    def email(match: re.Match[str]) -> str:
        spoken = re.sub(r"\d+", lambda m: f" {_spell(m.group())} ", match.group())
        for sign, word in ((".", " dot "), ("@", " at "), ("_", " underscore "), ("-", " dash "), ("+", " plus ")):
            spoken = spoken.replace(sign, word)
        return spoken

    def number(match: re.Match[str]) -> str:
        raw, start = match.group(), match.start()
        money = raw.startswith("$")
        whole, _, fraction = raw.lstrip("$").partition(".")
        part_of_id = re.match(r"[A-Za-z_]", match.string[start - 1 : start]) is not None  # W2378156, user_7272
        if part_of_id or len(whole) > 4 or (len(whole) > 1 and whole.startswith("0")):
            words = _spell(whole)
        else:
            words = number_words(int(whole))
        if fraction:
            words += " point " + _spell(fraction)
        return f" {words}{' dollars' if money else ''} "

    text = _EMAIL.sub(email, text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = _NUMBER.sub(number, text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return " ".join(text.split())


# --- judging --------------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    """Records compare with money to the cent (the benchmark keeps float noise) and absent == null."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def expected_state(original: Mapping[str, Any], changed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The original database with the benchmark's changed records put in."""
    return {kind: {**records, **changed.get(kind, {})} for kind, records in original.items()}


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def differences(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Every record that differs, as ``kind/id: field=actual (expected …)``; empty when equal."""
    found = []
    for kind in sorted(set(actual) | set(expected)):
        mine, theirs = actual.get(kind, {}), expected.get(kind, {})
        for key in sorted(set(mine) | set(theirs)):
            a, e = _normal(mine.get(key)), _normal(theirs.get(key))
            if a == e:
                continue
            if a is None or e is None:
                found.append(f"{kind}/{key}: {'missing' if a is None else 'unexpected'}")
                continue
            fields = [
                f"{name}={_short(a.get(name))} (expected {_short(e.get(name))})"
                for name in sorted(set(a) | set(e))
                if a.get(name) != e.get(name)
            ]
            found.append(f"{kind}/{key}: " + "; ".join(fields))
    return found


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", re.sub(r"(?<=\d),(?=\d{3})", "", text))]


def missing_info(info: Sequence[str], replies: Sequence[str]) -> list[str]:
    """The ``communicate_info`` strings no reply stated: numbers by value ("$1,093.3" states
    "1093.30"), other text case-insensitively."""
    said = " ".join(replies)
    numbers = _numbers(said)
    flat = " ".join(re.sub(r"[^a-z0-9.]+", " ", said.lower()).split())
    missing = []
    for item in info:
        plain = item.strip().lstrip("$").replace(",", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", plain):
            found = any(abs(n - float(plain)) < 0.005 for n in numbers)
        else:
            wanted = " ".join(re.sub(r"[^a-z0-9.]+", " ", item.lower()).split())
            found = re.search(rf"(?<![a-z0-9]){re.escape(wanted)}(?![a-z0-9])", flat) is not None
        if not found:
            missing.append(item)
    return missing


# --- stores ---------------------------------------------------------------------------------------


class Stores:
    """Fresh τ² stores: the database is imported once into a template file, each task gets a copy."""

    def __init__(self, db_path: Path, workdir: Path) -> None:
        self.workdir = workdir
        self.template = workdir / "template.db"
        self.original = json.loads(Path(db_path).read_text(encoding="utf-8"))
        shop = Shop.open(f"sqlite:///{self.template}")
        import_tau2(shop.engine, db_path)
        with shop.engine.connect() as conn:  # fold the WAL into the file, so copying the file is enough
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shop.engine.dispose()

    @contextmanager
    def fresh(self, name: str) -> Iterator[Shop]:
        path = self.workdir / f"{name}.db"
        shutil.copyfile(self.template, path)
        engine = create_engine(f"sqlite:///{path}")
        try:
            yield Shop(engine)
        finally:
            engine.dispose()
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)

    def expected(self, task: Mapping[str, Any], oracle: Mapping[str, Any] | None) -> dict[str, Any]:
        """The final state the benchmark expects: its recorded changes, else the gold actions replayed."""
        if oracle is not None:
            return expected_state(self.original, oracle["changed"])
        with self.fresh(f"gold-{task['id']}") as shop:
            replay(shop, task["evaluation_criteria"]["actions"])
            return export_tau2(shop.engine)


# --- running --------------------------------------------------------------------------------------


@dataclass
class Exchange:
    customer: str
    agent: str
    awaiting: str
    actions: list[dict[str, Any]]
    seconds: float


@dataclass
class Outcome:
    task_id: str
    run: int
    success: bool = False
    end: str = "done"  # done | handoff | stuck | turn cap | error
    differences: list[str] = field(default_factory=list)
    missing_info: list[str] = field(default_factory=list)
    fallbacks: int = 0
    error: str | None = None
    transcript: list[Exchange] = field(default_factory=list)


def converse(
    agent: Agent, responder: Responder, conversation_id: str, *, echo: bool = False
) -> tuple[list[Exchange], str]:
    """Let the customer talk until they finish, are handed off, or the agent asks the same thing thrice."""
    transcript: list[Exchange] = []
    message: str | None = responder.opening()
    while message is not None:
        if len(transcript) == MAX_TURNS:
            return transcript, "turn cap"
        started = time.perf_counter()
        result = agent.handle(TurnInput(conversation_id=conversation_id, text=message))
        seconds = time.perf_counter() - started
        actions = [asdict(a) for a in result.actions]
        transcript.append(Exchange(message, result.text, result.awaiting, actions, seconds))
        if echo:
            print(f"customer: {message}\n   agent: {result.text}\n          [awaiting {result.awaiting}]")
            for a in actions:
                print(f"          {a['name']} {'ok' if a['ok'] else 'refused'} {a['arguments']} {a['detail']}")
        if result.handoff:
            return transcript, "handoff"
        repeated = len(transcript) >= 3 and len({(t.agent, t.awaiting) for t in transcript[-3:]}) == 1
        if repeated and result.awaiting != "none":
            return transcript, "stuck"
        message = responder.answer(result)
    return transcript, "done"


def run_task(
    task: Mapping[str, Any],
    customer: Customer,
    run: int,
    stores: Stores,
    make_agent: AgentFactory,
    expected: Mapping[str, Any],
    *,
    fallbacks: Callable[[], int] = lambda: 0,
    echo: bool = False,
) -> Outcome:
    """One conversation on a fresh store, judged against the expected final state."""
    outcome = Outcome(task["id"], run)
    before = fallbacks()
    with stores.fresh(f"task-{task['id']}-{run}") as shop:
        try:
            responder = Responder(customer, task["id"], run)
            outcome.transcript, outcome.end = converse(make_agent(shop), responder, f"eval-{task['id']}-{run}", echo=echo)
        except Exception:  # a crash fails this task, with its traceback in the report, not the whole run
            outcome.end, outcome.error = "error", traceback.format_exc(limit=8)
        outcome.differences = differences(export_tau2(shop.engine), expected)
    info = task["evaluation_criteria"].get("communicate_info") or []
    outcome.missing_info = missing_info(info, [t.agent for t in outcome.transcript])
    outcome.fallbacks = fallbacks() - before
    outcome.success = outcome.error is None and not outcome.differences and not outcome.missing_info
    return outcome


def pass_hat_k(successes: Sequence[Sequence[bool]], k: int) -> float:
    """τ-bench's pass^k: the chance that k runs drawn from each task's n all succeed, C(c,k)/C(n,k),
    averaged over tasks (with n == k: the share of tasks that succeeded every time)."""
    scores = [math.comb(sum(runs), k) / math.comb(len(runs), k) for runs in successes if len(runs) >= k]
    return sum(scores) / len(scores) if scores else 0.0


@dataclass
class Report:
    runs: int
    outcomes: dict[str, list[Outcome]]

    def pass_hat(self, k: int) -> float:
        return pass_hat_k([[o.success for o in runs] for runs in self.outcomes.values()], k)

    def turn_seconds(self) -> list[float]:
        return sorted(t.seconds for runs in self.outcomes.values() for o in runs for t in o.transcript)

    def table(self) -> str:
        """Per task: runs passed, mean turns, fallbacks, how talks ended, the first failure; then totals."""
        lines = [f"{'task':>5}  {'ok':>5}  {'turns':>5}  {'fallb':>5}  {'end':<9} first failure"]
        for task_id, runs in self.outcomes.items():
            failed = next((o for o in runs if not o.success), None)
            why = "" if failed is None else f"run {failed.run}: {_failure(failed)}"
            ok, turns = sum(o.success for o in runs), sum(len(o.transcript) for o in runs) / len(runs)
            fallbacks, ends = sum(o.fallbacks for o in runs), ",".join(sorted({o.end for o in runs}))
            lines.append(f"{task_id:>5}  {ok:>2}/{len(runs):<2}  {turns:>5.1f}  {fallbacks:>5}  {ends:<9} {why}")
        everything = [o for runs in self.outcomes.values() for o in runs]
        seconds = self.turn_seconds()
        p50, p95 = (_percentile(seconds, 0.5), _percentile(seconds, 0.95)) if seconds else (0.0, 0.0)
        k = f", pass^{self.runs} {self.pass_hat(self.runs):.1%}" if self.runs > 1 else ""
        failures = {
            "wrong store state": sum(bool(o.differences) for o in everything),
            "info not told": sum(bool(o.missing_info) for o in everything),
            **{end: sum(o.end == end and not o.success for o in everything) for end in ("error", "stuck", "turn cap")},
        }
        lines += [
            "",
            f"tasks {len(self.outcomes)}, runs {self.runs}: pass^1 {self.pass_hat(1):.1%}{k}",
            "failed dialogues: " + ", ".join(f"{n} {what}" for what, n in failures.items()),
            f"turns {len(seconds)}, fallbacks {sum(o.fallbacks for o in everything)}, "
            f"time per turn p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "pass^1": self.pass_hat(1),
            f"pass^{self.runs}": self.pass_hat(self.runs),
            "tasks": {task_id: [asdict(o) for o in runs] for task_id, runs in self.outcomes.items()},
        }


def _failure(outcome: Outcome) -> str:
    if outcome.error:
        return "error: " + outcome.error.strip().splitlines()[-1]
    parts = [f"{len(outcome.differences)} records differ: {outcome.differences[0][:100]}"] if outcome.differences else []
    if outcome.missing_info:
        parts.append(f"not told {outcome.missing_info}")
    return "; ".join(parts) + (f" [{outcome.end}]" if outcome.end != "done" else "")


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def evaluate(
    tasks: Sequence[Mapping[str, Any]],
    customers: Mapping[str, Customer],
    db_path: Path,
    make_agent: AgentFactory,
    *,
    oracle: Mapping[str, Any] | None = None,
    runs: int = 1,
    fallbacks: Callable[[], int] = lambda: 0,
    progress: bool = False,
    echo: bool = False,
) -> Report:
    """Run every task that has a customer ``runs`` times; ``oracle`` is ``expected_train.json``."""
    tasks = [t for t in tasks if t["id"] in customers]
    outcomes: dict[str, list[Outcome]] = {}
    with tempfile.TemporaryDirectory(prefix="shopagent-eval-") as workdir:
        stores = Stores(db_path, Path(workdir))
        bar = tqdm(total=len(tasks) * runs, desc="dialogues", unit="dialogue", disable=not progress)
        for task in tasks:
            expected = stores.expected(task, (oracle or {}).get(task["id"]))
            for run in range(runs):
                customer = customers[task["id"]]
                outcome = run_task(task, customer, run, stores, make_agent, expected, fallbacks=fallbacks, echo=echo)
                outcomes.setdefault(task["id"], []).append(outcome)
                bar.update()
        bar.close()
    return Report(runs, outcomes)
