"""Carry all-MiniLM-L6-v2 to a machine without it, small enough for a 64 MiB transfer.

    python benchmarks/prune_text_model.py pack   MODEL_DIR DEST [CORPUS_ROOT ...]
    python benchmarks/prune_text_model.py unpack DEST MODEL_OUT
    python benchmarks/prune_text_model.py check  MODEL_OUT CORPUS_ROOT

``pack`` writes the weights in float16 with the word-embedding matrix cut to the rows of the token
ids that this package's captions can use: every string constant of ``sclap_nb`` (class captions,
direction phrases, connectors) and every caption of the corpora under the given roots. ``unpack``
rebuilds a float32 model whose other rows are zero. ``check`` tokenizes every caption of the corpora
under a root and fails, naming the first caption, when one uses a token whose row was cut.
"""

from __future__ import annotations

import ast
import csv
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

KEY = "embeddings.word_embeddings.weight"
WEIGHTS = "model.pruned.fp16.safetensors"


def corpus_captions(roots):
    for root in roots:
        for f in sorted(Path(root).glob("*/metadata/*.csv")):
            with open(f, encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    yield f, row["caption"]
                    yield f, row["plain_caption"]


def package_strings():
    for f in sorted(Path(__file__).resolve().parents[1].joinpath("sclap_nb").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def pack(model_dir: str, dest: str, *roots: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    ids = set(tok.all_special_ids)
    texts = set(package_strings()) | {c for _, c in corpus_captions(roots)}
    for t in texts:
        ids.update(tok(t, truncation=False)["input_ids"])
    ids = sorted(ids)
    src = Path(model_dir)
    weights = src / "model.safetensors" if (src / "model.safetensors").exists() else src / "model.fp16.safetensors"
    sd = {k: v.half() if v.is_floating_point() else v for k, v in load_file(weights).items()}
    full = sd.pop(KEY)
    sd["pruned.ids"] = torch.tensor(ids, dtype=torch.int64)
    sd["pruned.rows"] = full[ids].contiguous()
    sd["pruned.shape"] = torch.tensor(list(full.shape))
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    save_file(sd, out / WEIGHTS)
    for f in src.iterdir():
        if f.suffix in (".json", ".txt") and f.is_file():
            shutil.copy(f, out / f.name)
    print(f"{len(ids)} of {full.shape[0]} token rows kept; {(out / WEIGHTS).stat().st_size / 1e6:.1f} MB")


def unpack(dest: str, model_out: str) -> None:
    src, out = Path(dest), Path(model_out)
    out.mkdir(parents=True, exist_ok=True)
    sd = load_file(src / WEIGHTS)
    ids, rows, shape = sd.pop("pruned.ids"), sd.pop("pruned.rows"), sd.pop("pruned.shape")
    full = torch.zeros(*shape.tolist(), dtype=torch.float32)
    full[ids] = rows.float()
    sd = {k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in sd.items()}
    sd[KEY] = full
    save_file(sd, out / "model.safetensors")
    for f in src.iterdir():
        if f.suffix in (".json", ".txt") and f.is_file():
            shutil.copy(f, out / f.name)
    print(f"unpacked {len(ids)} token rows into {out}")


def check(model_out: str, root: str) -> None:
    from transformers import AutoTokenizer

    from safetensors import safe_open

    tok = AutoTokenizer.from_pretrained(model_out)
    with safe_open(str(Path(model_out) / "model.safetensors"), "pt") as f:
        zero = f.get_tensor(KEY).abs().sum(1) == 0
    n = 0
    for path, caption in corpus_captions([root]):
        missing = [i for i in tok(caption, truncation=False)["input_ids"] if zero[i]]
        if missing:
            sys.exit(f"{path}: caption {caption!r} uses token(s) {tok.convert_ids_to_tokens(missing)} cut from the model")
        n += 1
    print(f"every token of {n} captions has its row")


if __name__ == "__main__":
    {"pack": pack, "unpack": unpack, "check": check}[sys.argv[1]](*sys.argv[2:])
