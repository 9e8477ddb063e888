"""The README is a front door, and every number it states comes from a results file.

``result_numbers`` lists the numbers of a Markdown text the way a reader sees them: outside fenced code
blocks of commands (``bash``, ``python``), inline code, link targets and ordered-list markers, and not
part of a word (``T2A``, ``R@1``, ``s2025``, ``3-way``). ``unmatched`` returns those that are neither
on the explicit allow-list below nor, at the precision shown, among the values of ``results/**``'s
``*.json`` and ``*.csv`` files (``0.953`` matches 0.953125; a signed number matches a value of that
sign, an unsigned one a value of either sign, as in "lowers LE by 3.97°" for -3.968).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RESULTS = REPO / "results"
MAX_LINES = 150
FIRST_SCREEN = 40
COMMANDS = ("make setup && make train", "make setup && make test")

# numbers in the README that are not results, each with why
ALLOWED: dict[str, str] = {
    "0.65": "the specification's goal for the modality probe accuracy (a target, not a result)",
    "95": "the level of the t-intervals (95 %)",
    "8": "the number of azimuth sectors, a design constant of the corpus",
    "7": "the ablation's number of configurations (sclap_nb.ablation.CONFIGS)",
    "6": "the sweep's number of configurations (benchmarks/sweep_jobs.tsv)",
}
# a number right after these words is a name, not a quantity: "chapter 11"
NAME_BEFORE = re.compile(r"(?:[Cc]hapters?|[Ss]ection)\s+$")
COMMAND_FENCES = {"bash", "sh", "shell", "python", "yaml"}

NUMBER = re.compile(r"(?<![\w.@/\-−+])([+\-−]?)(\d+(?:\.\d+)?)(?![\w@]|-[A-Za-z]|\.\d)")


def prose(text: str) -> list[tuple[int, str]]:
    """(line number, text) of what a reader reads as prose: fenced blocks of commands dropped (an output
    block, fenced without a command language, stays), inline code, link targets and list markers blanked."""
    out, fence = [], None
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            if fence is None:
                fence = stripped[3:].strip().split(" ")[0].lower() or "output"
            else:
                fence = None
            continue
        if fence in COMMAND_FENCES:
            continue
        line = re.sub(r"`[^`]*`", " ", line)  # inline code
        line = re.sub(r"\]\([^)]*\)", "]", line)  # link and image targets
        line = re.sub(r"<[^>]+>", " ", line)  # HTML tags
        line = re.sub(r"^\s*\d+\.\s", " ", line)  # ordered-list markers
        out.append((no, line))
    return out


def result_numbers(text: str) -> list[tuple[int, str, float, int, bool]]:
    """(line, as written, value, decimals shown, signed) of every number in the prose of ``text``."""
    found = []
    for no, line in prose(text):
        for m in NUMBER.finditer(line):
            if NAME_BEFORE.search(line[: m.start()]):
                continue
            sign, digits = m.group(1), m.group(2)
            value = float(digits) * (-1 if sign in ("-", "−") else 1)
            decimals = len(digits.split(".")[1]) if "." in digits else 0
            found.append((no, (sign + digits).replace("−", "-"), value, decimals, bool(sign)))
    return found


def _numbers_of(obj):
    if isinstance(obj, bool):
        return
    if isinstance(obj, (int, float)):
        yield float(obj)
    elif isinstance(obj, str):
        try:
            yield float(obj)
        except ValueError:
            return
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers_of(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _numbers_of(v)


def result_values(results: Path) -> np.ndarray:
    """Every finite number in ``results/**/*.json`` and ``*.csv``, sorted."""
    values: list[float] = []
    for path in sorted(results.rglob("*")):
        if path.suffix == ".json":
            values += _numbers_of(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as f:
                for row in csv.reader(f):
                    values += _numbers_of(row)
    v = np.asarray(values, dtype=float)
    return np.sort(v[np.isfinite(v)])


def _present(values: np.ndarray, target: float, decimals: int) -> bool:
    half = 0.5 * 10.0**-decimals + 1e-9
    i = np.searchsorted(values, target - half)
    return i < len(values) and values[i] <= target + half


def unmatched(text: str, values: np.ndarray, allowed=ALLOWED) -> list[str]:
    """'line N: X' for each number of ``text`` found neither in ``allowed`` nor among ``values``."""
    bad = []
    for no, shown, value, decimals, signed in result_numbers(text):
        if shown.lstrip("+") in allowed:
            continue
        if _present(values, value, decimals) or (not signed and _present(values, -value, decimals)):
            continue
        bad.append(f"line {no}: {shown}")
    return bad


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    return result_values(RESULTS)


def test_every_number_in_the_readme_is_a_result(values):
    bad = unmatched(README.read_text(encoding="utf-8"), values)
    assert not bad, "README numbers found in no results/**/*.json or *.csv file: " + ", ".join(bad)


def test_a_made_up_number_is_caught(values):
    text = README.read_text(encoding="utf-8") + "\nThe model reaches T2A R@1 0.123456 and LE 1234.5°.\n"
    bad = unmatched(text, values)
    assert [b.split(": ")[1] for b in bad] == ["0.123456", "1234.5"]


def test_the_checker_reads_numbers_as_a_reader_does():
    text = "\n".join([
        "# Title",
        "1. T2A R@1 0.953 on s2025 with the 3-way loss, chapter 11, `--model.dim 256` [x](fig2.png)",
        "```bash",
        "python -m sclap_nb.train --optim.epochs 30",
        "```",
        "```",
        "0.926  clip.wav",
        "```",
        "LE −3.97° [−4.21, +0.5], 4.98° and 1–3 m",
    ])  # fmt: skip
    assert [(n[0], n[1]) for n in result_numbers(text)] == [
        (2, "0.953"), (7, "0.926"), (9, "-3.97"), (9, "-4.21"), (9, "+0.5"), (9, "4.98"), (9, "1"), (9, "3")]
    values = np.sort(np.array([0.953125, -3.9677, -4.207, 0.5, 4.9849, 1.0, 3.0, 0.92600]))
    assert unmatched(text, values, allowed={}) == []
    assert unmatched(text.replace("0.953", "0.954"), values, allowed={}) == ["line 2: 0.954"]
    assert unmatched(text.replace("+0.5", "-0.5"), values, allowed={}) == ["line 9: -0.5"]
    # an output block typed into the README is checked like prose
    assert unmatched(text.replace("0.926", "0.927"), values, allowed={}) == ["line 7: 0.927"]


def test_the_readme_is_short_and_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines (at most {MAX_LINES})"
    first = "\n".join(lines[:FIRST_SCREEN])
    for command in COMMANDS:
        assert command in first, f"{command!r} is not in the README's first {FIRST_SCREEN} lines"


def test_the_readme_shows_no_typed_output():
    """An example's printed output would be typed, not produced: every fenced block is a command block."""
    fences = [line.strip()[3:].strip() for line in README.read_text(encoding="utf-8").splitlines()
              if line.strip().startswith("```")]  # fmt: skip
    openings = fences[0::2]
    assert all(f.split(" ")[0].lower() in COMMAND_FENCES for f in openings), openings


def test_the_readmes_links_to_files_exist():
    text = README.read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t]
    missing = [t for t in targets if t and not (REPO / t).exists()]  # figures/model.png: python -m sclap_nb.diagram
    assert not missing, f"README links to missing files: {missing}"


def test_the_study_summaries_follow_from_their_runs(tmp_path, capsys):
    """results/*/means.csv and paired.csv are what scripts/summarise_results.py computes from the runs."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import summarise_results
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert summarise_results.main(["--results", str(RESULTS), "--check"]) == 0, capsys.readouterr().err
    # and the check can fail: a changed number in a copy of the sweep is named
    copy = tmp_path / "results"
    for path in (RESULTS / "sweep").rglob("*"):
        if path.suffix in (".json", ".csv"):
            (copy / path.relative_to(RESULTS)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(RESULTS)).write_bytes(path.read_bytes())
    metrics = copy / "sweep" / "runs" / "all_s2025" / "metrics.json"
    m = json.loads(metrics.read_text())
    m["LE_deg"] += 1.0
    metrics.write_text(json.dumps(m))
    assert summarise_results.main(["--results", str(copy), "--check"]) == 1
    assert "sweep" in capsys.readouterr().err


@pytest.mark.slow
def test_the_readmes_python_example_runs(tmp_path, monkeypatch):
    """The README's Python block, run as written (it builds a 128-scene timed test split and embeds its 640
    clips) in a scratch folder that sees the committed results."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the README shows one Python example"
    (tmp_path / "results").symlink_to(RESULTS)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    hits, where, probs = scope["hits"], scope["where"], scope["probs"]
    assert len(hits) == 5 and all(h.score <= g.score for g, h in zip(hits, hits[1:]))
    assert len(where) == 1 and probs.shape == (640, 3)  # 128 timed scenes of 5 clips
    assert (tmp_path / "data" / "timed-test-128" / "corpus.json").exists()  # built in the scratch folder
