"""Sphinx extension that makes the built book self-contained: it needs no network to render.

MathJax 3 comes from the ``django-static-mathjax`` wheel (a plain copy of the MathJax 3 distribution,
importable as ``mathjax``; it does not need Django). After the HTML build, the ES5 build of MathJax is
copied to ``_build/html/_static/mathjax/``, where ``mathjax_path: mathjax/tex-chtml.js`` in _config.yml
points. A missing MathJax is a build error, not a silent fallback to a CDN.

Jupyter widgets: a page whose notebook stores widget state loads the scripts of myst-nb's
``nb_ipywidgets_js`` (by default require.js and the widget manager from CDNs). The book vendors the
standalone widget manager in ``book/_static/widgets/`` (see its README); ``nb_ipywidgets_js`` in
_config.yml names it as ``widgets/embed.js``, which Sphinx resolves against ``_static``. Every script
named there must be a relative path to a file of that folder (a build error otherwise), and the
folder is copied to ``_build/html/_static/widgets/``.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: the vendored widget manager (book/_static/widgets), served as _static/widgets
WIDGETS_DIR = Path(__file__).resolve().parents[1] / "_static" / "widgets"
WIDGETS_PREFIX = "widgets/"

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
    _check_widget_scripts(getattr(config, "nb_ipywidgets_js", None) or {})


def _check_widget_scripts(scripts: dict) -> None:
    """Each widget script must be one of the vendored files, named relative to _static."""
    for path in scripts:
        path = str(path)
        if "://" in path or path.startswith("/") or not path.startswith(WIDGETS_PREFIX):
            raise ExtensionError(f"nb_ipywidgets_js must name files of _static/{WIDGETS_PREFIX}, not {path!r}")
        if not (WIDGETS_DIR / path[len(WIDGETS_PREFIX):]).is_file():
            raise ExtensionError(f"nb_ipywidgets_js names {path!r}, which is not in {WIDGETS_DIR}")


def _copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(
        mathjax_es5_dir(), dest, dirs_exist_ok=True,
        ignore=lambda d, names: [n for n in names if n in _SKIP and Path(d).name == "es5"],
    )
    if not (WIDGETS_DIR / "embed.js").is_file():
        raise ExtensionError(f"the vendored widget manager {WIDGETS_DIR / 'embed.js'} is missing")
    shutil.copytree(WIDGETS_DIR, Path(app.outdir) / "_static" / "widgets", dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n == "README.md"])


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("build-finished", _copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
