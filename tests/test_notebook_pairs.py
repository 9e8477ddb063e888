"""Every notebook in notebooks/ is a jupytext pair (NAME.ipynb + NAME.py in the percent format), and the two
sides of each pair hold the same cells. The comparison reads both files with jupytext; timestamps play no
part. `make sync` repairs a pair that has drifted apart.

The chapters listed in _toc.yml must all exist, and every .ipynb must say which kernel and language it is
for (kernelspec and language_info: the book's syntax highlighting and nbval's kernel choice depend on them).
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file
from jupytext.formats import guess_format

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def toc_files() -> list[str]:
    """The documents of the book, in order, as written in _toc.yml (no suffix)."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for entry in toc.get("chapters", []):
        files.append(entry["file"])
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def notebook_stems() -> list[str]:
    """Names of all notebooks in notebooks/, whichever side of the pair exists."""
    stems = {p.stem for p in NOTEBOOKS.glob("*.py")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    return sorted(stems)


def _cell_inputs(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a notebook's cells say, without outputs: type, source and tags (tags steer nbval and the book)."""
    return [
        (cell.cell_type, cell.source.strip("\n"), tuple(cell.metadata.get("tags", ())))
        for cell in nb.cells
    ]


def pair_differences(py_path: Path, ipynb_path: Path) -> list[str]:
    """Differences between the two sides of a pair, as readable lines; empty when in sync."""
    problems = []
    for path in (py_path, ipynb_path):
        if not path.exists():
            problems.append(f"{path.relative_to(path.parents[1])} is missing (run `make sync`)")
    if problems:
        return problems
    text = py_path.read_text(encoding="utf-8")
    fmt, _ = guess_format(text, ".py")
    if fmt != "percent":
        problems.append(f"{py_path.name} is in jupytext's {fmt!r} format, not 'percent'")
    py_cells = _cell_inputs(jupytext.reads(text, fmt="py:percent"))
    nb_cells = _cell_inputs(jupytext.read(ipynb_path))
    if len(py_cells) != len(nb_cells):
        problems.append(f"{py_path.name} has {len(py_cells)} cells, {ipynb_path.name} has {len(nb_cells)}")
    for i, (a, b) in enumerate(zip(py_cells, nb_cells)):
        if a != b:
            what = "type" if a[0] != b[0] else ("source" if a[1] != b[1] else "tags")
            problems.append(
                f"cell {i} differs in its {what}:\n  .py:    {a[1][:200]!r} {a[2]}\n  .ipynb: {b[1][:200]!r} {b[2]}"
            )
            if len(problems) >= 5:
                break
    return problems


def test_jupytext_config_pairs_notebooks():
    """jupytext.toml at the root pairs each notebook in notebooks/ with a percent-format .py."""
    config_file = find_jupytext_configuration_file(str(NOTEBOOKS))
    assert config_file and Path(config_file) == REPO / "jupytext.toml", config_file
    config = load_jupytext_configuration_file(config_file)
    formats = config.default_formats(str(NOTEBOOKS / "02_scenes.ipynb"))
    assert set(formats.split(",")) == {"ipynb", "py:percent"}, formats


def test_toc_chapters_exist():
    """Each chapter of _toc.yml is a markdown page or a paired notebook in the repository."""
    missing = []
    for doc in toc_files():
        base = REPO / doc
        if base.with_suffix(".md").exists():
            continue
        for suffix in (".ipynb", ".py"):
            if not base.with_suffix(suffix).exists():
                missing.append(f"{doc}{suffix}")
    assert not missing, f"chapters listed in _toc.yml but missing: {missing}"


def test_every_notebook_is_in_the_toc():
    """A notebook left out of _toc.yml would silently not be in the book."""
    in_toc = {Path(doc).name for doc in toc_files() if doc.startswith("notebooks/")}
    extra = [s for s in notebook_stems() if s not in in_toc]
    assert not extra, f"notebooks/ holds notebooks that _toc.yml does not list: {extra}"


@pytest.mark.parametrize("stem", notebook_stems())
def test_pair_in_sync(stem):
    problems = pair_differences(NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb")
    assert not problems, f"notebooks/{stem}: the pair is out of sync (run `make sync`):\n" + "\n".join(problems)


@pytest.mark.parametrize("stem", sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")))
def test_ipynb_metadata(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    nbformat.validate(nb)
    kernelspec = nb.metadata.get("kernelspec") or {}
    assert kernelspec.get("name"), f"{stem}.ipynb has no kernelspec name"
    assert kernelspec.get("display_name"), f"{stem}.ipynb has no kernelspec display_name"
    assert kernelspec.get("language", "python") == "python", kernelspec
    language_info = nb.metadata.get("language_info") or {}
    assert language_info.get("name") == "python", (
        f"{stem}.ipynb has no language_info (it is written when the notebook is executed): {language_info}"
    )


def test_pair_checker_detects_drift(tmp_path):
    """The checker itself: a pair written by jupytext is in sync; an edit on one side is caught."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Title\n\nSome prose."), nbformat.v4.new_code_cell("x = 1\nx")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    py, ipynb = tmp_path / "nb.py", tmp_path / "nb.ipynb"
    jupytext.write(nb, py, fmt="py:percent")
    jupytext.write(nb, ipynb)
    assert pair_differences(py, ipynb) == []

    py.write_text(py.read_text(encoding="utf-8").replace("x = 1", "x = 2"), encoding="utf-8")
    assert any("cell 1" in p for p in pair_differences(py, ipynb))

    jupytext.write(nb, py, fmt="py:percent")
    nb.cells.append(nbformat.v4.new_code_cell("y = 3"))
    jupytext.write(nb, ipynb)
    assert any("cells" in p for p in pair_differences(py, ipynb))

    ipynb.unlink()
    assert any("missing" in p for p in pair_differences(py, ipynb))


def test_nbval_sanitize_file():
    """nbval.cfg parses as nbval reads it and masks the volatile parts of outputs, and nothing else."""
    import re

    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((REPO / "nbval.cfg").read_text(encoding="utf-8"))
    assert len(patterns) >= 8
    for regex, _ in patterns:
        assert regex == regex.strip(), f"trailing or leading space in nbval.cfg regex {regex!r}"
        re.compile(regex)

    def sanitize(s: str) -> str:
        for regex, replace in dict(patterns).items():  # nbval keeps them in a dict, in file order
            s = re.sub(regex, replace, s)
        return s

    pairs = [
        ("epoch 3: 100%|██████████| 12/12 [00:03<00:00,  3.51it/s, loss=0.41]",
         "epoch 3: 100%|██████████| 12/12 [00:09<00:00,  1.20it/s, loss=0.41]"),
        ("CPU times: user 1.2 s, sys: 34 ms, total: 1.23 s\nWall time: 812 ms",
         "CPU times: user 7 s, sys: 1.5 ms, total: 8.5 s\nWall time: 2.3 s"),
        ("trained in 12.3 s", "trained in 8.01 s"),
        ("<Figure at 0x7f3a2b1c4d90>", "<Figure at 0x7fe012345678>"),
        ("saved to /tmp/tmpa1b2c3/run/model.pt", "saved to /tmp/pytest-of-root/pytest-7/x0/run/model.pt"),
        ("run started 2025-11-25 02:13:44.123", "run started 2026-01-02T10:00:01"),
        ("/work/main/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py:1: UserWarning",
         "/builds/x/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py:1: UserWarning"),
        ("logs in runs/lightning_logs/version_3", "logs in runs/lightning_logs/version_11"),
    ]
    for a, b in pairs:
        assert sanitize(a) == sanitize(b), (a, sanitize(a), b, sanitize(b))
    # Values that are results, not noise, stay as they are.
    for keep in ["R@1 = 0.412", "loss 0.693 at epoch 4", "accuracy 0.50 over 64 triplets", "12/12 batches",
                 "4 chunks of 8 frames", "tensor([[0.1, 0.2]])"]:
        assert sanitize(keep) == keep, (keep, sanitize(keep))


def test_every_chapter_names_the_pinned_jupytext():
    """The .py headers name the jupytext that pyproject.toml pins: a save from JupyterLab with another version
    rewrites the header (tests/test_lab.py), so a re-sync with another version must move the pin too."""
    import re

    pin = re.search(r'"jupytext==([\d.]+)"', (REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pin, "pyproject.toml does not pin jupytext"
    assert jupytext.__version__ == pin[1], f"jupytext {jupytext.__version__} is installed, pyproject.toml pins {pin[1]}"
    named = {p.name: re.search(r"jupytext_version: ([\d.]+)", p.read_text(encoding="utf-8")) for p in sorted(NOTEBOOKS.glob("*.py"))}
    assert named and all(m and m[1] == pin[1] for m in named.values()), {k: m and m[1] for k, m in named.items()}
