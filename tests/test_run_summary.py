"""summary.json is built in one place (report.summary.RunSummary): what the read said and what the store
half said are both kept."""

from __future__ import annotations

import json

from cli_support import VALID, cli


def test_a_sent_run_keeps_the_reads_notes_with_the_stores(capsys, tmp_path):
    # Before RunSummary the store half's notes replaced the read's: a --limit run said nothing of its limit.
    run = cli(capsys, "import", VALID, "--sandbox", "--no-journal", "--limit", 3, "--report-dir", tmp_path, "--json")
    summary = json.loads(run.out)
    assert run.code == 0 and summary["limit"] == 3 and summary["counts"] == {"created": 3}
    assert summary["notes"][0] == "--limit 3: only the first 3 data rows were read"
    assert any(note.startswith("--no-journal:") for note in summary["notes"])
    assert "Note: --limit 3: only the first 3 data rows were read" in run.err
    on_disk = json.loads(next(tmp_path.glob("*/summary.json")).read_text("utf-8"))
    assert on_disk == summary
