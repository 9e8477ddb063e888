"""The FLOP-share benchmark's own pieces (``benchmarks/flops_share.py``); its figures are printed, not tested."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import flops_share  # noqa: E402


def test_an_existing_out_file_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "flops.json"
    out.write_text("mine")
    with pytest.raises(SystemExit):
        flops_share.main(["--out", str(out)])
    assert "exists" in capsys.readouterr().err and out.read_text() == "mine"


def test_operator_shares_name_the_operators_a_step_spends_its_time_in():
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    text = flops_share.operator_shares(lambda: torch.relu(a @ b).sum(), "a matmul", steps=2, top=3)
    lines = text.splitlines()
    assert lines[0].startswith("where a matmul's time goes (2 steps") and len(lines) == 4
    assert any("aten::mm" in line for line in lines[1:])  # the matmul is among the top three
    shares = [float(line.rsplit(None, 1)[1].rstrip("%")) for line in lines[1:]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 100.0 + 1e-9
