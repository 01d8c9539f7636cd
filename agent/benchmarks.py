"""``shopagent bench all``: every benchmark and evaluation in one run, written to ``BENCHMARKS.md``.

Each section is a function that runs the existing command's library code (``bench speech``,
``bench retrieval``, ``eval retrieval|recommend|probe|intents|dialogues``, ``bench load``) and returns
markdown, so the report and the commands can never disagree on how a number is made. Every ratio in
the report (speech vs plain openai-whisper, search vs exact numpy, models vs popularity, LLM vs
templates) is measured side by side within the run that writes it.

Everything runs on a bench data dir (``<data dir>/bench/service``, shared with ``bench load``): its own
demo shop, intent artifact, index and converted models, so the configured shop is never written to.
The first run pays the one-off work (conversions, intent training, indexing); later runs reuse it.
"""

from __future__ import annotations

import os
import platform
import random
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from shopagent.agent.runtime import Runtime
from shopagent.settings import Settings

Echo = Callable[[str], None]
STAGES = ("hear", "understand", "decide", "first_text", "write", "speak", "total")
VERSIONS = ("shopagent", "torch", "transformers", "openai-whisper", "faster-whisper", "ctranslate2", "chromadb",
            "llama_cpp_python", "scikit-learn", "fastapi", "uvicorn", "sqlalchemy", "numpy")


@dataclass
class BenchContext:
    """What sections share: the bench settings, the size of the run, and the service's warm parts."""

    settings: Settings
    quick: bool
    echo: Echo = print
    llm: bool = True  # also measure with the local LLM where a section compares reply writers

    @cached_property
    def runtime(self) -> Runtime:
        """The service's own warm-up on the bench data dir (templates only): store, index, models, agent."""
        from shopagent.agent.loadtest import reset_store
        from shopagent.agent.prepare import run_preparation

        reset_store(self.settings.data_dir)
        return run_preparation(self.settings)


def bench_settings(settings: Settings) -> Settings:
    """The configured settings on the bench data dir, embedded Chroma and SQLite, templates only."""
    folder = settings.data_dir / "bench" / "service"
    bench = settings.model_copy(update=dict(data_dir=folder, store_url=None, chroma_path=None, chroma_url=None,
                                            llm="none"))
    bench.ensure_dirs()
    return bench


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """``align``: one character per column, ``l`` or ``r`` (default: first left, the rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- sections ------------------------------------------------------------------------------


def machine(ctx: BenchContext) -> str:
    """CPU, memory, thread budgets and package versions; how busy the machine was."""
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) / 1024**2 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), float("nan"))
    s = ctx.settings
    rows = [
        ("CPU", cpu), ("cores", os.cpu_count()), ("memory", f"{mem:.1f} GiB"),
        ("OS", f"{platform.system()} {platform.release()}"), ("Python", platform.python_version()),
        ("threads", f"torch {s.threads_torch} (torch.get_num_threads {torch.get_num_threads()}), "
                    f"ASR {s.threads_asr}, LLM {s.threads_llm}"),
        ("load average at start (1/5/15 min)", " / ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]
    rows += [(name, _version(name)) for name in VERSIONS]
    return markdown_table(["what", "value"], rows, "ll")


def speech(ctx: BenchContext) -> str:
    """``bench speech``: WER and speed of the default recognition path against plain openai-whisper."""
    from shopagent.speech.bench import run_bench

    report = run_bench(ctx.settings, synth_count=6 if ctx.quick else 72, piper=not ctx.quick, ablations=False,
                       threads=min(2, os.cpu_count() or 1), echo=ctx.echo)
    rows = [(r["name"], f"{100 * r['wer']:.2f}", f"[{100 * r['wer_low']:.1f}, {100 * r['wer_high']:.1f}]",
             f"{r['rtf']:.3f}", f"{r['speedup_short']:.2f}", f"{1000 * r['p50_3_6s']:.0f}",
             f"{1000 * r['p90_3_6s']:.0f}", r["ids_exact"]) for r in report["rows"]]
    table = markdown_table(["system", "WER %", "95 % CI", "RTF", "speed ×reference (clips ≤ 10 s)",
                            "p50 ms (3–6 s clips)", "p90 ms (3–6 s clips)", "ids/emails exact"], rows)
    notes = [f"- `{r['name']}`: {r['description']}" for r in report["rows"]]
    return "\n".join([f"{report['clips']} clips ({', '.join(f'{k} {v}' for k, v in report['sources'].items())}), "
                      f"model {report['model']}, {report['threads']} threads; {report['load']}.", "", table, "",
                      *notes, "", *(f"- {goal}" for goal in report["goals"])])


def retrieval_speed(ctx: BenchContext) -> str:
    """``bench retrieval``: encoder throughput, index build, latency and recall against exact search."""
    from shopagent.fusion.image import ImageEncoder
    from shopagent.fusion.text import TextEncoder
    from shopagent.retrieval.bench import BenchOptions, format_report, run_bench

    options = BenchOptions.quick() if ctx.quick else BenchOptions()
    report = run_bench(options, TextEncoder.load(ctx.settings), ImageEncoder.load(ctx.settings), progress=True)
    return format_report(report)


def retrieval_quality(ctx: BenchContext) -> str:
    """``eval retrieval``: Recall@5 / NDCG@10 of text-attribute and held-out photo queries."""
    from shopagent.agent.search import evaluation_catalogs
    from shopagent.fusion.image import ImageEncoder
    from shopagent.fusion.text import TextEncoder
    from shopagent.retrieval.evaluate import evaluate_store, format_results

    products, queries = (40, 30) if ctx.quick else (200, 200)
    photos = not ctx.quick
    catalogs = evaluation_catalogs(ctx.settings, products, photos=photos)
    text, image = TextEncoder.load(ctx.settings), ImageEncoder.load(ctx.settings) if photos else None
    results = [r for name, docs in catalogs.items() for r in evaluate_store(name, docs, text, image, queries)]
    return format_results(results)


def recommendations(ctx: BenchContext) -> str:
    """``eval recommend`` (demo stores with planted tastes) and ``eval probe``."""
    import torch

    from shopagent.agent.recommend import DemoEvaluation, evaluate_demo, probe_report
    from shopagent.fusion.evaluate import pm
    from shopagent.fusion.tastes import TasteSampler
    from shopagent.fusion.train import TrainConfig

    torch.set_num_threads(ctx.settings.threads_torch)
    if ctx.quick:  # one small store; the probe needs ≥ 5 pictures of each of 77 shapes: full run only
        plan, train, samples = DemoEvaluation((0.5,), (101,), 100, 60), TrainConfig(steps=30), 0
    else:
        plan, train, samples = DemoEvaluation(), TrainConfig(), 600
    # Quick: seconds of training, less than starting the processes of a training pool would cost.
    summaries = evaluate_demo(plan, ctx.settings, train, workers=1 if ctx.quick else None)
    first = next(iter(summaries.values()))
    methods = [key.removesuffix("/ndcg") for key in first if key.endswith("/ndcg")]
    ablations = [key for key in ("attention/value_image", "attention/value_text") if key in first]
    rows = [(f"{fraction:g}", *(pm(summary[f"{m}/ndcg"]) for m in methods), *(pm(summary[a]) for a in ablations))
            for fraction, summary in summaries.items()]
    headers = ["image-only fraction", *methods, *(f"NDCG lost without {a.split('_')[1]} (attention, paired)"
                                                    for a in ablations)]
    return "\n".join([
        f"Last-order prediction, NDCG@10 (mean ± sd over generator seeds {list(plan.seeds)}); demo stores of "
        f"{plan.products} products and {plan.users} shoppers; {TasteSampler(plan.taste).describe()}",
        "", markdown_table(headers, rows), "",
        *(["```", probe_report(ctx.settings, samples, 0), "```"] if samples else ["Linear probe: full run only."]),
    ])


def intents(ctx: BenchContext) -> str:
    """``eval intents`` on the packaged held-out utterances."""
    from shopagent.agent.intents import HELDOUT_DATA, evaluate, load_examples

    classifier = ctx.runtime.components["intents"]
    report = evaluate(classifier, *load_examples(HELDOUT_DATA))
    summary = markdown_table(["utterances", "accuracy", "macro-F1", "out-of-scope precision", "out-of-scope recall"],
                             [(int(report.confusion.sum()), f"{report.accuracy:.3f}", f"{report.macro_f1:.3f}",
                               f"{report.oos_precision:.3f}", f"{report.oos_recall:.3f}")], "rrrrr")
    labels = markdown_table(["intent", "precision", "recall", "F1", "n"],
                            [(label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", n)
                             for label, (p, r, f, n) in report.per_label.items()])
    return f"{summary}\n\n{labels}"


def dialogues(ctx: BenchContext) -> str:
    """``eval dialogues``: τ²-bench retail tasks against scripted customers, templates only."""
    import json

    from shopagent.agent.agents import ShopAgent
    from shopagent.agent.build import build_agent
    from shopagent.agent.evaluate import evaluate, load_customers, packaged_users
    from shopagent.agent.store.tau2 import data_dir

    folder = data_dir()
    tasks = json.loads((folder / "tasks_train.json").read_text(encoding="utf-8"))
    oracle = json.loads((folder / "expected_train.json").read_text(encoding="utf-8"))
    customers = load_customers(packaged_users())
    tasks = [t for t in tasks if t["id"] in customers]
    runs = 2 if ctx.quick else 3
    if ctx.quick:
        tasks = tasks[:8]
    parts = ctx.runtime.components
    base = build_agent(ctx.settings, shop=parts["store"], intents=parts["intents"], chat_model=None)
    report = evaluate(tasks, customers, folder / "db.json",
                      lambda shop: ShopAgent(shop, base.stages, max_message_chars=base.max_message_chars),
                      oracle=oracle, runs=runs, fallbacks=lambda: base.stages.writer.stats.fallback, progress=True)
    seconds = np.array(report.turn_seconds()) * 1000
    ends: dict[str, int] = {}
    for outcomes in report.outcomes.values():
        for o in outcomes:
            ends[o.end] = ends.get(o.end, 0) + 1
    table = markdown_table(
        ["reply writer", "tasks", "runs", "pass^1", f"pass^{runs}", "turns", "turn p50 ms", "turn p95 ms"],
        [("templates only", len(report.outcomes), runs, f"{100 * report.pass_hat(1):.1f} %",
          f"{100 * report.pass_hat(runs):.1f} %", seconds.size, f"{np.percentile(seconds, 50):.0f}",
          f"{np.percentile(seconds, 95):.0f}")])
    scope = "the first 8 tasks with a scripted customer" if ctx.quick else "every task with a scripted customer"
    return (f"{scope} in `tasks_train.json`; runs after the first are paraphrased and noisy; dialogues end "
            f"{', '.join(f'{k} {v}' for k, v in sorted(ends.items()))}.\n\n{table}")


def turn_latency(ctx: BenchContext) -> str:
    """Per-stage latency of whole scripted sessions, typed and spoken, through the service's own agent.

    Spoken turns are the same scripts read by espeak-ng (ids and emails spelled out, as people say
    them); the audio is made before the clock starts. ``speak`` is Piper reading the reply, when the
    optional voice is installed.
    """
    from shopagent.agent.agents import CLIENT_ERRORS
    from shopagent.agent.build import build_agent
    from shopagent.agent.evaluate import speak
    from shopagent.agent.loadtest import script, shoppers_from_store
    from shopagent.agent.turn import TurnInput
    from shopagent.speech.audio import to_wav
    from shopagent.speech.synth import espeak

    parts = ctx.runtime.components
    agent, voice = parts["agent"], parts.get("speech:voice")
    sessions = 3 if ctx.quick else 7  # 6 turns each: 42 turns per row, enough for a p95
    scripts = [script(s, random.Random(i)) for i, s in enumerate(shoppers_from_store(agent.shop.engine, sessions, 1))]
    agents = [("templates only", agent)]
    if ctx.llm and not ctx.quick:
        local = ctx.settings.model_copy(update={"llm": "local"})
        agents.append(("local LLM", build_agent(local, shop=parts["store"], intents=parts["intents"],
                                                searcher=parts["search"], recognizer=parts["speech:recognizer"])))
    audio = [[to_wav(espeak(speak(text))) for text in turns] for turns in scripts]
    rows, refused = [], 0
    for writer, current in agents:
        for mode in ("text", "voice"):
            timings: list[dict[str, float]] = []
            stats, perf = current.stages.writer.stats, _llm_perf(current)
            tried, fell_back = stats.llm + stats.fallback, stats.fallback
            for i, turns in enumerate(scripts):
                conversation = f"bench-{writer}-{mode}-{i}-{time.time_ns()}"
                for j, text in enumerate(turns):
                    spoken = audio[i][j] if mode == "voice" else None
                    turn = TurnInput(conversation, text=None if spoken else text, audio=spoken)
                    try:
                        result = current.handle(turn)
                    except CLIENT_ERRORS:  # e.g. a clip heard as silence: a 4xx in the service
                        refused += 1
                        continue
                    stages = dict(result.timings)
                    if mode == "voice" and voice is not None and result.text:
                        started = time.perf_counter()
                        voice.synthesize(result.text)
                        stages["speak"] = time.perf_counter() - started
                        stages["total"] += stages["speak"]
                    timings.append(stages)
            tried, fell_back = stats.llm + stats.fallback - tried, stats.fallback - fell_back
            rows.append((f"{mode} turn", writer, len(timings), *(_p50_p95(timings, stage) for stage in STAGES),
                         f"{fell_back} / {tried}" if tried else "–", _rates(perf, _llm_perf(current))))
    headers = ["turn", "reply writer", "turns", *(f"{s} p50 / p95 ms" for s in STAGES),
               "LLM replies replaced by the template", "LLM prefill / decode tok/s"]
    table = markdown_table(headers, rows, "llr" + "r" * (len(STAGES) + 2))
    speaking = "Piper" if voice is not None else "not installed (`speak` empty)"
    return (f"{sessions} scripted sessions (greeting, order status, identity, product search, policy question, "
            f"goodbye) on the demo shop, one turn at a time; spoken replies: {speaking}; turns refused as bad "
            f"input: {refused}. `first_text` is when the turn's first checked sentence (or the template) was ready, "
            f"counted from the start of the turn; `total` is the whole turn (plus `speak`).\n\n{table}")


def load(ctx: BenchContext) -> str:
    """``bench load``: concurrent conversations against a real ``shopagent serve``."""
    from shopagent.agent.loadtest import LoadOptions, format_reports, run_load

    # Quick: templates only, as in the latency section (starting an LLM server is half of that run).
    writers = ("none", "local") if ctx.llm and not ctx.quick else ("none",)
    if "runtime" in ctx.__dict__:  # the in-process agent lets go of the bench shop the server re-seeds
        ctx.runtime.components["store"].engine.dispose()
    reports = []
    for llm in writers:
        options = LoadOptions.quick(llm) if ctx.quick else LoadOptions.full(llm)
        ctx.echo(f"load: {options.conversations} conversations for {options.duration_s:g} s, llm {llm} ...")
        reports.append(run_load(options, ctx.settings.data_dir))
    return format_reports(reports)


SECTIONS: dict[str, tuple[str, Callable[[BenchContext], str]]] = {
    "machine": ("Machine", machine),
    "speech": ("Speech recognition vs plain openai-whisper", speech),
    "retrieval-speed": ("Retrieval speed vs exact search", retrieval_speed),
    "retrieval-quality": ("Retrieval quality", retrieval_quality),
    "recommend": ("Recommendation quality", recommendations),
    "intents": ("Intent accuracy", intents),
    "dialogues": ("τ²-bench retail dialogues", dialogues),
    "latency": ("Turn latency per stage", turn_latency),
    "load": ("Load", load),
}


@dataclass
class SectionResult:
    name: str
    title: str
    body: str
    seconds: float
    failed: bool = False


@dataclass
class BenchAll:
    results: list[SectionResult] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if r.failed]

    def markdown(self, command: str) -> str:
        total = sum(r.seconds for r in self.results)
        cores = os.cpu_count()
        lines = [
            "# Benchmarks",
            "",
            f"Generated by `{command}` on {self.started:%Y-%m-%d %H:%M} UTC in {total / 60:.1f} min "
            f"({cores} cores; 1-min load average {os.getloadavg()[0]:.1f} at the end: above {cores} means other "
            "jobs shared the CPUs and timings are pessimistic). Every ratio compares systems measured side "
            "by side in this run. Do not edit by hand: rerun the command.",
            "",
            "| section | seconds | status |", "|---|---:|---|",
            *(f"| [{r.title}](#{_anchor(r.title)}) | {r.seconds:.0f} | {'failed' if r.failed else 'ok'} |"
              for r in self.results),
        ]
        for r in self.results:
            lines += ["", f"## {r.title}", "", r.body]
        return "\n".join(lines) + "\n"


def run_all(ctx: BenchContext, sections: Sequence[str] = tuple(SECTIONS)) -> BenchAll:
    """Run ``sections`` in order; a failing section is reported (with its error) and the rest still run."""
    out = BenchAll()
    for name in sections:
        title, run = SECTIONS[name]
        ctx.echo(f"== {title}")
        started = time.perf_counter()
        try:
            body, failed = run(ctx), False
        except Exception as exc:  # one broken section must not cost the other measurements
            ctx.echo(traceback.format_exc())
            body, failed = f"**Failed:** `{type(exc).__name__}: {exc}`", True
        out.results.append(SectionResult(name, title, body, time.perf_counter() - started, failed))
    return out


# --- helpers -------------------------------------------------------------------------------


def _p50_p95(timings: Sequence[dict[str, float]], stage: str) -> str:
    values = [t[stage] * 1000 for t in timings if stage in t]
    if not values:
        return "–"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:.0f} / {p95:.0f}"


def _llm_perf(agent: Any) -> dict[str, float] | None:
    """The local model's llama.cpp counters, or None when the agent has no local model."""
    perf = getattr(agent.stages.writer.chat_model, "perf", None)
    return perf() if perf else None


def _rates(before: dict[str, float] | None, after: dict[str, float] | None) -> str:
    """Prefill and decode speed between two :func:`_llm_perf` readings."""
    if before is None or after is None or after["decode_tokens"] == before["decode_tokens"]:
        return "–"
    rate = {kind: (after[f"{kind}_tokens"] - before[f"{kind}_tokens"]) / max(after[f"{kind}_s"] - before[f"{kind}_s"],
                                                                          1e-9) for kind in ("prompt", "decode")}
    return f"{rate['prompt']:.0f} / {rate['decode']:.1f}"


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    return "".join(c for c in title.lower() if c.isalnum() or c in " -_").replace(" ", "-")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
