"""The ``shopagent`` command line.

Each command is a thin shell over a library function: parse options, show progress, print a result.
Command groups: ``import``/``export`` (store data), ``eval`` (quality tables), ``bench`` (speed tables).
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated, Optional

import typer

from shopagent import __version__
from shopagent.settings import Settings, get_settings

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

    from shopagent.agent.api.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


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


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
