"""benchmarks/model_table.py: --append keeps earlier rows (their checkpoints may be gone) and their curves."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import REPO, SAMPLE


def _table(out, *ckpts, append=False):
    cmd = [sys.executable, str(REPO / "benchmarks" / "model_table.py"), "--data", str(SAMPLE), "--out", str(out)]
    proc = subprocess.run([*cmd, *map(str, ckpts), *(["--append"] if append else [])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.with_suffix(".json").read_text())


def test_append_keeps_rows_of_checkpoints_that_are_gone(tiny_checkpoint, tmp_path):
    first = tmp_path / "run_a" / "model.pt"
    first.parent.mkdir()
    shutil.copy(tiny_checkpoint, first)
    out = tmp_path / "table"
    old = _table(out, first)["rows"]
    assert len(old) == 1 and len(old[0]["nme_per_face"]) == old[0]["faces"]
    shutil.rmtree(first.parent)  # as runs/ is gone in a later session
    second = tmp_path / "run_b" / "model.pt"
    second.parent.mkdir()
    shutil.copy(tiny_checkpoint, second)
    rows = _table(out, second, append=True)["rows"]
    assert [r["checkpoint"] for r in rows] == [str(first), str(second)]
    assert rows[0] == old[0]  # carried over, not re-scored
    assert rows[1]["nme"] == rows[0]["nme"]  # the same weights score the same
    md = out.with_suffix(".md").read_text()
    assert md.count("| resnet18 | gap |") == 2
    assert (tmp_path / "table_ced.png").stat().st_size > 0
    assert len(_table(out, second)["rows"]) == 1  # without --append the table is rebuilt
