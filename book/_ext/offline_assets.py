"""Sphinx extension that makes the built book self-contained: it needs no network to render.

MathJax 3 comes from the ``django-static-mathjax`` wheel (a plain copy of the MathJax 3 distribution,
importable as ``mathjax``; it does not need Django). After the HTML build, the ES5 build of MathJax is
copied to ``_build/html/_static/mathjax/``, where ``mathjax_path: mathjax/tex-chtml.js`` in _config.yml
points. A missing MathJax is a build error, not a silent fallback to a CDN.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# The combined bundles that the book does not load (tex-chtml.js is the one it loads).
_SKIP = {
    "tex-chtml-full-speech.js", "tex-chtml-full.js", "tex-mml-chtml.js", "tex-mml-svg.js",
    "tex-svg-full.js", "tex-svg.js", "mml-chtml.js", "mml-svg.js", "node-main.js",
}


def mathjax_es5_dir() -> Path:
    """The ES5 build of MathJax 3 installed with the ``django-static-mathjax`` wheel."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "MathJax is not installed: `pip install django-static-mathjax` (in the dev extra; `make setup`)"
        )
    for location in spec.submodule_search_locations:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    raise ExtensionError(f"no MathJax es5/tex-chtml.js under {list(spec.submodule_search_locations)}")


def _check_config(app: Sphinx, config) -> None:
    path = str(config.mathjax_path or "")
    if "://" in path or path.startswith("//"):
        raise ExtensionError(f"mathjax_path must be local, not {path!r}")
    mathjax_es5_dir()  # fail early when it is missing


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(
        mathjax_es5_dir(), dest, dirs_exist_ok=True,
        ignore=lambda d, names: [n for n in names if n in _SKIP and Path(d).name == "es5"],
    )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
