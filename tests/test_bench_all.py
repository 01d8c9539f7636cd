"""`shopagent bench all`: the report is assembled from real measurements, section by section."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopagent.agent.benchmarks import SECTIONS, BenchContext, bench_settings, run_all
from shopagent.agent.cli import app
from shopagent.settings import Settings


def tables(markdown: str) -> list[list[list[str]]]:
    """Every markdown table as rows of cells (header first, separator dropped)."""
    found, current = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            found.append(current)
            current = []
    for table in found:
        assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in table[1]), table[1]
        del table[1]
    return found


def column(table: list[list[str]], name: str) -> list[str]:
    return [row[table[0].index(name)] for row in table[1:]]


@pytest.mark.slow
def test_quick_report_has_sections_well_formed_tables_and_real_numbers(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPAGENT_TAU2_DIR", str(tmp_path / "no-tau2-here"))  # a section that cannot run
    context = BenchContext(bench_settings(Settings(data_dir=tmp_path / "data", llm="none")), quick=True,
                           echo=lambda _: None, llm=False)
    report = run_all(context, ["machine", "dialogues", "retrieval-speed"])
    text = report.markdown("shopagent bench all --quick")

    assert report.failed == ["dialogues"]  # reported with its reason; the other sections still ran
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [SECTIONS[name][0] for name in ("machine", "dialogues", "retrieval-speed")]
    assert "**Failed:** `FileNotFoundError" in text
    found = tables(text)
    for table in found:
        assert len(table) >= 2 and {len(row) for row in table} == {len(table[0])}, table
    index, machine, *retrieval = found
    assert all(float(s) >= 0 for s in column(index, "seconds"))
    assert column(index, "status") == ["ok", "failed", "ok"]
    facts = dict((row[0], row[1]) for row in machine[1:])
    assert int(facts["cores"]) == os.cpu_count()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", facts["torch"])
    latency = next(t for t in retrieval if "p99 ms" in t[0])
    p50, p99 = (list(map(float, column(latency, name))) for name in ("p50 ms", "p99 ms"))
    assert all(0 < a <= b for a, b in zip(p50, p99))
    recalls = list(map(float, column(latency, "recall@10 vs exact")))
    assert column(latency, "engine").count("exact") == 2 and all(0 <= r <= 1 for r in recalls)
    assert max(recalls) == 1.0  # exact search against itself


def test_unknown_section_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "all", "--only", "machine,nope", "--out", str(tmp_path / "b.md")])
    assert result.exit_code == 2
    assert "nope" in result.output and not (tmp_path / "b.md").exists()
