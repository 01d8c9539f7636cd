"""`shopagent import tau2|catalog`, `export tau2` and `demo-store` against the configured database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from shopagent.agent import cli
from shopagent.agent.store.tau2 import export_tau2
from shopagent.settings import Settings


@pytest.fixture
def run(empty_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = empty_engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(cli, "_settings", lambda: Settings(data_dir=tmp_path / "data", store_url=url, llm="none"))
    return lambda *args: CliRunner().invoke(cli.app, list(args))


def test_import_and_export_tau2(run, empty_engine: Engine, tau2_dir: Path, tmp_path: Path) -> None:
    imported = run("import", "tau2", str(tau2_dir / "db.json"))
    assert imported.exit_code == 0, imported.output
    assert "50 products (591 variants), 500 users, 1000 orders" in imported.stdout
    again = run("import", "tau2", str(tau2_dir / "db.json"))
    assert again.exit_code == 2 and "already holds data" in again.output
    out = tmp_path / "out.json"
    assert run("export", "tau2", str(out)).exit_code == 0
    assert json.loads(out.read_text()) == export_tau2(empty_engine)
    assert len(json.loads(out.read_text())["orders"]) == 1000


def test_import_catalog_reports_bad_rows(run, empty_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("product_id,name,item_id,price\nA-1,Mug,A-1-S,oops\nB-1,Tee,B-1-M,12\n")
    refused = run("import", "catalog", str(path))
    assert refused.exit_code == 2 and "line 2: variants.0.price" in refused.output
    path.write_text("product_id,name,item_id,price\nA-1,Mug,A-1-S,9.5\nB-1,Tee,B-1-M,12\n")
    imported = run("import", "catalog", str(path))
    assert imported.exit_code == 0 and "2 new, 0 updated" in imported.stdout
    assert set(export_tau2(empty_engine)["products"]) == {"A-1", "B-1"}


def test_demo_store(run, empty_engine: Engine) -> None:
    loaded = run("demo-store", "--seed", "3", "--products", "40", "--users", "25")
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 40 products" in loaded.stdout and "25 users" in loaded.stdout
    assert len(export_tau2(empty_engine)["products"]) == 40
    assert run("demo-store").exit_code == 2  # not over existing data without --replace
    assert run("demo-store", "--replace", "--products", "12", "--users", "5").exit_code == 0
    assert len(export_tau2(empty_engine)["products"]) == 12
