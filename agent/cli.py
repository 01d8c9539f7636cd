"""The ``shopagent`` command line.

Each command is a thin shell over a library function: parse options, show progress, print a result.
Command groups: ``import``/``export`` (store data), ``eval`` (quality tables), ``bench`` (speed tables).
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from shopagent import __version__
from shopagent.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

T = TypeVar("T")

app = typer.Typer(
    name="shopagent",
    help="Offline-first customer-service agent for online shops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Load data into the shop database.", no_args_is_help=True)
export_app = typer.Typer(help="Write the shop database out.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality evaluations that print tables.", no_args_is_help=True)
bench_app = typer.Typer(help="Speed benchmarks that print tables.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


def _settings() -> Settings:
    settings = get_settings()
    settings.ensure_dirs()
    return settings


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    from shopagent.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if version:
        typer.echo(__version__)
        raise typer.Exit()


# --- service -------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default from settings).")] = None,
) -> None:
    """Run the HTTP service (chat widget, voice and platform API)."""
    import uvicorn

    from shopagent.agent.runtime import tune_process_memory

    settings = _settings()
    tune_process_memory(settings)  # before the app's imports load torch and start threads
    from shopagent.agent.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
def chat(
    voice: Annotated[Optional[Path], typer.Option(help="Send this recording as the first (spoken) turn.")] = None,
    conversation: Annotated[Optional[str], typer.Option(help="Continue this conversation id.")] = None,
) -> None:
    """Talk to the agent in the terminal, on the configured store (Ctrl-D to quit)."""
    import uuid

    from shopagent.agent.agents import CLIENT_ERRORS
    from shopagent.agent.build import build_agent
    from shopagent.agent.turn import TurnInput
    from shopagent.speech.transcribe import load_recognizer

    settings = _settings()
    typer.echo("loading the agent ...", err=True)
    agent = build_agent(settings, recognizer=load_recognizer(settings) if voice else None)
    conversation = conversation or uuid.uuid4().hex
    turn: TurnInput | None = TurnInput(conversation, audio=voice.read_bytes()) if voice else None
    typer.echo(f"conversation {conversation}; type your message (Ctrl-D to quit)", err=True)
    while True:
        if turn is None:
            try:
                turn = TurnInput(conversation, text=input("you> "))
            except EOFError:
                return
        try:
            result = agent.handle(turn)
        except CLIENT_ERRORS as exc:  # bad input: say why and keep the conversation
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        else:
            if result.transcript:
                typer.echo(f"you (heard)> {result.transcript}")
            typer.echo(f"agent> {result.text}")
            for card in result.cards:
                typer.echo(f"  [{card.name} · {card.variant} · {card.price}] {card.reason}")
            if result.awaiting != "none":
                typer.echo(f"  (awaiting: {result.awaiting})", err=True)
        turn = None


@app.command()
def prepare() -> None:
    """Do the heavy first-run work (verify and join models, ...) with progress, so `serve` starts fast."""
    from shopagent.agent.prepare import run_preparation

    run_preparation(_settings())


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show which models, packages and services are present, with versions, checksums and thread budgets."""
    from shopagent.agent.doctor import collect

    report = collect(_settings())
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(f"shopagent {__version__} on Python {platform.python_version()} ({sys.platform})")
    for section, rows in report.items():
        typer.echo(f"\n[{section}]")
        for key, value in rows.items():
            typer.echo(f"  {key:<28} {value}")
    problems = [k for k, v in report["models"].items() if not str(v).startswith("ok")]
    if problems:
        _fail(f"models unavailable: {', '.join(problems)}", code=1)


# --- store ---------------------------------------------------------------------------------


def _store(settings: Settings) -> Engine:
    """The configured database, migrated (imports stay inside: `--help` must not load SQLAlchemy)."""
    from shopagent.agent.store.db import create_engine, migrate

    engine = create_engine(settings.database_url)
    migrate(engine)
    return engine


def _store_errors(run: Callable[[], T]) -> T:
    """Store refusals (a bad file, a store that is not empty) end the command with a clear error."""
    from shopagent.agent.store.errors import StoreError

    try:
        return run()
    except StoreError as exc:
        _fail(exc.reason)


@import_app.command("tau2")
def import_tau2(
    path: Annotated[Path, typer.Argument(help="The benchmark's retail db.json.")],
    replace: Annotated[bool, typer.Option(help="Replace the data already in the store.")] = False,
) -> None:
    """Load a τ²-bench retail database (products, users, orders) and the benchmark's policy."""
    from shopagent.agent.store.tau2 import import_tau2 as load

    engine = _store(_settings())
    s = _store_errors(lambda: load(engine, path, replace=replace, progress=True))
    typer.echo(f"imported {s.products} products ({s.variants} variants), {s.users} users, {s.orders} orders")


@import_app.command("catalog")
def import_catalog(
    path: Annotated[Path, typer.Argument(help="Products and variants as .csv or .jsonl.")],
) -> None:
    """Insert or update a shop's catalog; every bad row is reported and nothing is imported then."""
    from shopagent.agent.store.catalog import import_catalog as load

    engine = _store(_settings())
    s = _store_errors(lambda: load(engine, path))
    typer.echo(f"imported {s.products} products ({s.variants} variants): {s.created} new, {s.updated} updated")


@export_app.command("tau2")
def export_tau2(out: Annotated[Path, typer.Argument(help="Where to write the JSON.")]) -> None:
    """Write the store in the τ²-bench retail JSON shape."""
    from shopagent.agent.store.tau2 import write_tau2

    write_tau2(_store(_settings()), out)
    typer.echo(f"wrote {out}")


@app.command("demo-store")
def demo_store(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same store.")] = 0,
    products: Annotated[int, typer.Option(min=1, help="Number of products.")] = 500,
    users: Annotated[int, typer.Option(min=1, help="Number of users.")] = 300,
    replace: Annotated[bool, typer.Option(help="Replace the data already in the store.")] = False,
) -> None:
    """Generate the project's own demo shop and load it into the configured database."""
    from shopagent.agent.store.demo import DemoOptions, load_demo

    engine = _store(_settings())
    options = DemoOptions(seed=seed, products=products, users=users)
    s = _store_errors(lambda: load_demo(engine, options, replace=replace, progress=True))
    typer.echo(f"loaded {s.products} products ({s.variants} variants), {s.users} users, {s.orders} orders")


# --- speech --------------------------------------------------------------------------------


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="Audio file: wav, flac, mp3, ogg/opus, webm, m4a, ...")],
    model: Annotated[Optional[str], typer.Option(help="tiny.en (English) or base (multilingual).")] = None,
    backend: Annotated[Optional[str], typer.Option(help="ctranslate2 or whisper.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Language code; default: detect (base only).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Full result: segments, confidence, timings.")] = False,
) -> None:
    """Print the transcript of an audio file."""
    from shopagent.speech.errors import SpeechError
    from shopagent.speech.transcribe import TranscribeOptions, load_recognizer
    from shopagent.speech.transcribe import transcribe as run

    if model not in (None, "tiny.en", "base") or backend not in (None, "ctranslate2", "whisper"):
        _fail("--model is tiny.en or base; --backend is ctranslate2 or whisper")
    settings = _settings()
    try:
        data = file.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    try:
        recognizer = load_recognizer(settings, model=model, backend=backend)
        result = run(data, settings=settings, options=TranscribeOptions(language=language), recognizer=recognizer)
    except SpeechError as exc:
        _fail(f"{file}: {exc}")
    typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else result.text)


@eval_app.command("dialogues")
def eval_dialogues(
    tasks: Annotated[Optional[Path], typer.Option(help="τ² tasks JSON (default: tasks_train.json in the τ² folder).")] = None,
    users: Annotated[Optional[Path], typer.Option(help="Scripted customers by task id (default: the packaged ones).")] = None,
    db: Annotated[Optional[Path], typer.Option(help="τ² db.json every dialogue starts from.")] = None,
    expected: Annotated[Optional[Path], typer.Option(help="Final states by task id (default: expected_train.json "
                        "with the default tasks); a task without one replays its gold actions.")] = None,
    runs: Annotated[int, typer.Option(min=1, help="Runs per task; runs after the first are paraphrased and noisy.")] = 1,
    task: Annotated[Optional[str], typer.Option(help="Run only this task id and print its transcript.")] = None,
    llm: Annotated[Optional[str], typer.Option(help="Reply writer for this run: none, local or openai.")] = None,
    out: Annotated[Optional[Path], typer.Option("--json", help="Write every outcome with its transcript here.")] = None,
) -> None:
    """pass^1 and pass^k of the agent against scripted customers on τ²-bench retail tasks."""
    from shopagent.agent.agents import ShopAgent
    from shopagent.agent.build import build_agent
    from shopagent.agent.evaluate import evaluate, load_customers, packaged_users
    from shopagent.agent.store.tau2 import data_dir

    if llm not in (None, "none", "local", "openai"):
        _fail("--llm is none, local or openai")
    folder = data_dir()
    tasks, db = tasks or folder / "tasks_train.json", db or folder / "db.json"
    expected = expected or (folder / "expected_train.json" if tasks == folder / "tasks_train.json" else None)
    try:
        task_list = json.loads(tasks.read_text(encoding="utf-8"))
        customers = load_customers(users or packaged_users())
        oracle = json.loads(expected.read_text(encoding="utf-8")) if expected else None
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    if task is not None:
        if task not in customers or all(t["id"] != task for t in task_list):
            _fail(f"no task {task!r} with a customer")
        task_list = [t for t in task_list if t["id"] == task]
    settings = _settings()
    if llm is not None:
        settings = settings.model_copy(update={"llm": llm})
    base = build_agent(settings)  # models load once; each dialogue gets its own fresh store
    report = evaluate(
        task_list, customers, db,
        lambda shop: ShopAgent(shop, base.stages, max_message_chars=base.max_message_chars),
        oracle=oracle, runs=runs, fallbacks=lambda: base.stages.writer.stats.fallback,
        progress=task is None, echo=task is not None,
    )
    typer.echo(report.table())
    if out is not None:
        out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")


@eval_app.command("intents")
def eval_intents(
    data: Annotated[Optional[Path], typer.Option(help="JSONL of {\"text\", \"intent\"} lines (default: the "
                     "packaged held-out set).")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Also list every misclassified utterance.")] = False,
) -> None:
    """Accuracy, macro-F1, out-of-scope precision/recall and confusion matrix of the intent classifier
    (trained on the packaged train set; the artifact is reused while that set is unchanged)."""
    from shopagent.agent.intents import HELDOUT_DATA, IntentClassifier, evaluate, load_examples

    try:
        texts, labels = load_examples(data or HELDOUT_DATA)
    except (OSError, ValueError, KeyError) as exc:
        _fail(f"{data or HELDOUT_DATA}: {exc}")
    classifier = IntentClassifier.load_or_train(_settings(), progress=True)
    typer.echo(evaluate(classifier, texts, labels).format(show_errors=errors))


@bench_app.command("speech")
def bench_speech(
    synthesized: Annotated[int, typer.Option(min=0, help="Synthesized support utterances to add.")] = 72,
    ablations: Annotated[bool, typer.Option(help="Also run one-change variants of the default.")] = True,
    piper: Annotated[bool, typer.Option(help="Speak a quarter of the utterances with Piper if installed.")] = True,
    threads: Annotated[int, typer.Option(min=1, help="Threads for every system.")] = 2,
) -> None:
    """WER (95% CI) and speed of the default speech path against plain openai-whisper."""
    from shopagent.speech.bench import run_bench

    run_bench(_settings(), synth_count=synthesized, piper=piper, ablations=ablations, threads=threads,
              echo=typer.echo)


# --- retrieval -----------------------------------------------------------------------------


@app.command("index")
def index_catalog() -> None:
    """Rebuild the search index (product texts, variant photos, policy passages) from the store."""
    from shopagent.agent.search import rebuild_index

    settings = _settings()
    index, report = rebuild_index(settings, _store(settings), progress=True)
    for kind, info in index.describe().items():
        typer.echo(f"{kind:<9} {info['records']:>7} records  embedded {report.embedded.get(kind, 0)}  "
                   f"hnsw {info['hnsw']}")


@eval_app.command("retrieval")
def eval_retrieval(
    demo_products: Annotated[int, typer.Option(min=10, help="Products in the generated demo store.")] = 200,
    queries: Annotated[int, typer.Option(min=1, help="Queries per store and kind, at most one per product.")] = 200,
    photos: Annotated[bool, typer.Option(help="Also score held-out photo queries (needs the image model).")] = True,
) -> None:
    """Recall@5 and NDCG@10 of query → product on the demo and τ² stores (text attributes, photos)."""
    from shopagent.agent.search import evaluation_catalogs
    from shopagent.fusion.image import ImageEncoder
    from shopagent.fusion.text import TextEncoder
    from shopagent.retrieval.evaluate import evaluate_store, format_results

    settings = _settings()
    catalogs = evaluation_catalogs(settings, demo_products, photos=photos)
    if "τ²" not in catalogs:
        typer.secho("τ² data not found (set SHOPAGENT_TAU2_DIR): demo store only", fg=typer.colors.YELLOW, err=True)
    text, image = TextEncoder.load(settings), ImageEncoder.load(settings) if photos else None
    results = [r for name, docs in catalogs.items() for r in evaluate_store(name, docs, text, image, queries, progress=True)]
    typer.echo(format_results(results))


@bench_app.command("retrieval")
def bench_retrieval(
    quick: Annotated[bool, typer.Option("--quick", help="2k products, few queries: seconds, for CI.")] = False,
    out: Annotated[Optional[Path], typer.Option("--json", help="Also write the measurements here.")] = None,
) -> None:
    """Encoder throughput, then index build and p50/p99 query latency vs exact search at 10k and 100k."""
    from shopagent.fusion.image import ImageEncoder
    from shopagent.fusion.text import TextEncoder
    from shopagent.retrieval.bench import BenchOptions, format_report, run_bench

    settings = _settings()
    options = BenchOptions.quick() if quick else BenchOptions()
    report = run_bench(options, TextEncoder.load(settings), ImageEncoder.load(settings), progress=True)
    typer.echo(format_report(report))
    if out is not None:
        out.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")


# --- service benchmarks --------------------------------------------------------------------


@bench_app.command("load")
def bench_load(
    conversations: Annotated[int, typer.Option(min=1, help="Concurrent scripted shoppers.")] = 50,
    duration: Annotated[float, typer.Option(min=1, help="Measured seconds (memory: judged on the 2nd half).")] = 120.0,
    warmup: Annotated[float, typer.Option(min=0, help="Seconds of load before measuring.")] = 10.0,
    think: Annotated[float, typer.Option(min=0, help="Mean think time between turns, seconds.")] = 1.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Client timeout per request, seconds.")] = 30.0,
    llm: Annotated[str, typer.Option(help="Reply writer of the server: none or local.")] = "none",
    windows: Annotated[int, typer.Option(min=3, help="Memory windows the measured time is cut into.")] = 6,
) -> None:
    """Concurrent conversations against a real `shopagent serve` on loopback: throughput, latency
    percentiles, errors, backpressure and server memory over time."""
    from shopagent.agent.benchmarks import bench_settings
    from shopagent.agent.loadtest import LoadOptions, format_reports, run_load

    if llm not in ("none", "local"):
        _fail("--llm is none or local")
    options = LoadOptions(conversations=conversations, duration_s=duration, warmup_s=warmup, think_s=think,
                          timeout_s=timeout, llm=llm, windows=windows)
    typer.echo(format_reports([run_load(options, bench_settings(_settings()).data_dir)]))


@bench_app.command("all")
def bench_all(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes everywhere: minutes, not half an hour.")] = False,
    out: Annotated[Path, typer.Option(help="Where to write the report.")] = Path("BENCHMARKS.md"),
    only: Annotated[Optional[str], typer.Option(help="Comma-separated sections to run (default: all).")] = None,
    llm: Annotated[bool, typer.Option(help="Also measure with the local LLM (latency, load).")] = True,
) -> None:
    """Run every benchmark and evaluation and write them as one markdown report (BENCHMARKS.md)."""
    from shopagent.agent.benchmarks import SECTIONS, BenchContext, bench_settings, run_all

    sections = [s.strip() for s in only.split(",")] if only else list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        _fail(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    context = BenchContext(bench_settings(_settings()), quick, echo=lambda line: typer.echo(line, err=True), llm=llm)
    report = run_all(context, sections)
    flags = ["--quick" if quick else "", "" if llm else "--no-llm", f"--only {only}" if only else ""]
    command = " ".join(["shopagent bench all", *filter(None, flags)])
    out.write_text(report.markdown(command), encoding="utf-8")
    typer.echo(f"wrote {out}")
    if report.failed:
        _fail(f"sections failed: {', '.join(report.failed)}", code=1)


# --- recommendations -----------------------------------------------------------------------


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


@eval_app.command("recommend")
def eval_recommend(
    store: Annotated[str, typer.Option(
        help="'demo' (generated stores with taste-sampled orders), 'tau2' (the benchmark's db.json), "
        "'configured' (the shop database) or an SQLAlchemy URL.")] = "demo",
    interactions: Annotated[Optional[Path], typer.Option(
        help="CSV log (user,item,timestamp) to use instead of the store's orders; not with 'demo'.")] = None,
    fractions: Annotated[str, typer.Option(help="Demo: image-only fractions, comma-separated.")] = "0,0.5,0.9",
    seeds: Annotated[str, typer.Option(help="Demo: generator seeds; otherwise training seeds.")] = "101,102,103",
    products: Annotated[int, typer.Option(min=10, help="Demo: products per store.")] = 500,
    users: Annotated[int, typer.Option(min=10, help="Demo: shoppers per store.")] = 300,
    tastes: Annotated[str, typer.Option(help="Demo: which attribute values shoppers may like: eval, dev, all.")] = "eval",
    steps: Annotated[int, typer.Option(min=1, help="Training steps per model (at most: early stopping).")] = 400,
) -> None:
    """Last-order prediction (Recall@10, NDCG@10) for baselines and the fusion models, with ablations."""
    import torch

    from shopagent.agent.recommend import DemoEvaluation, demo_report, evaluate_demo, evaluate_interactions, store_data
    from shopagent.fusion.evaluate import ablation_table, recommend_table, verdict
    from shopagent.fusion.tastes import TasteConfig
    from shopagent.fusion.train import TrainConfig

    settings = _settings()
    torch.set_num_threads(settings.threads_torch)
    train = TrainConfig(steps=steps)
    if store == "demo":
        if interactions is not None:
            _fail("--interactions needs a real catalog: pass --store tau2, configured or a URL")
        plan = DemoEvaluation(_floats(fractions), _ints(seeds), products, users, TasteConfig(values=tastes))  # type: ignore[arg-type]
        typer.echo(demo_report(plan, evaluate_demo(plan, settings, train, progress=True)))
        return
    try:
        records, log, source = store_data(store, settings, interactions)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    summary, shoppers = evaluate_interactions(records, log, settings, train, _ints(seeds), progress=True)
    typer.echo(f"{source}: {len(records)} products, {shoppers} shoppers with two orders or more; "
               f"mean ± standard deviation over training seeds {seeds}.")
    typer.echo("\n\n".join([recommend_table(summary), ablation_table(summary), verdict(summary)]))


@eval_app.command("probe")
def eval_probe(
    samples: Annotated[int, typer.Option(min=20, help="Rendered pictures (random attribute combinations).")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed for the combinations and the folds.")] = 0,
) -> None:
    """How well each visual attribute can be read linearly from image features of rendered pictures."""
    from shopagent.agent.recommend import probe_report

    typer.echo(probe_report(_settings(), samples, seed))


@app.command("train-recommender")
def train_recommender() -> None:
    """Train the attention-fusion recommender on every order in the store; saves a new version."""
    from shopagent.agent.recommend import train_recommender as train

    settings = _settings()
    typer.echo(f"saved {train(_store(settings), settings)}")


# --- privacy -------------------------------------------------------------------------------

privacy_app = typer.Typer(help="Shoppers' data: retention purge, export, erasure.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("purge")
def privacy_purge() -> None:
    """Delete transcripts and conversations older than the retention settings allow."""
    from shopagent.agent.privacy import purge

    settings = _settings()
    summary = purge(_store(settings), settings)
    typer.echo(f"deleted {summary.transcripts} transcripts and {summary.conversations} conversations")


@privacy_app.command("export")
def privacy_export(
    user_id: Annotated[str, typer.Argument(help="The shopper's user id.")],
    out: Annotated[Optional[Path], typer.Option(help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything stored about one shopper, as JSON."""
    from shopagent.agent.privacy import export_user

    data = _store_errors(lambda: export_user(_store(_settings()), user_id))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}", err=True)


@privacy_app.command("delete")
def privacy_delete(
    user_id: Annotated[str, typer.Argument(help="The shopper's user id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one shopper's personal data (orders stay as bookkeeping records, the audit log is kept)."""
    from shopagent.agent.privacy import delete_user

    if not yes:
        typer.confirm(f"erase the personal data of {user_id}?", abort=True)
    s = _store_errors(lambda: delete_user(_store(_settings()), user_id))
    typer.echo(f"erased {s.user_id}: {s.conversations} conversations ({s.messages} messages) deleted, "
               f"{s.orders_scrubbed} orders' addresses blanked")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
