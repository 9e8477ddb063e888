"""The book builds (warnings are errors), and renders offline in a real browser.

The build is the one `make book` runs, written to a temporary folder. The browser checks open every
page of the table of contents in Debian's headless Chromium through Playwright, served from 127.0.0.1:
no failed or remote request, every image loaded, every formula typeset by the bundled MathJax, no
empty output area, every stored widget rendered by the bundled widget manager; and every page reads at
1280 px: no console or JavaScript error, no raw pipe table, no code or output wider than its box, no
page over the height limit (but the known exceptions, browser_check.PAGES_OVER_HEIGHT_LIMIT), no figure
text under 9 px. A page built to break each rule shows that the checks fail. On the chapters with
widgets (scenes: a scene menu with audio players; GRL: a λ slider) the widgets are visible and switch
what they show without a kernel. Full-page screenshots go to test-artifacts/ (book_intro.png,
book_02_scenes.png, book_05_grl.png).

Without /usr/bin/chromium the browser test is skipped, except under CI (CI set), where it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import browser_check  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
BUILD_TIMEOUT_S = 240
SCREENSHOTS = {
    "notebooks/01_introduction.html": ARTIFACTS / "book_intro.png",
    "notebooks/02_scenes.html": ARTIFACTS / "book_02_scenes.png",
    "notebooks/05_grl.html": ARTIFACTS / "book_05_grl.png",
}
#: chapters whose stored outputs hold widgets: page -> (least visible menus, sliders, <audio> elements)
WIDGET_PAGES = {
    "notebooks/02_scenes.html": (1, 0, 1),
    "notebooks/05_grl.html": (0, 1, 0),
}

# the book's Sphinx extensions (book/_ext)
BOOK_EXTENSIONS = REPO / "book" / "_ext"

def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """Build the book as `make book` does (jupyter-book build . -W --keep-going), into a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    cmd = [
        sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build", str(REPO), "--path-output", str(out), "-W", "--keep-going",
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
            env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the book build took more than {BUILD_TIMEOUT_S} s:\n{(exc.stdout or '')[-3000:]}")
    log = proc.stdout[-6000:] + "\n" + proc.stderr[-6000:]
    assert proc.returncode == 0, f"jupyter-book build failed (warnings are errors):\n{log}"
    html = out / "_build" / "html"
    assert (html / "index.html").exists(), log
    return html


@pytest.mark.slow
def test_book_has_every_chapter(book):
    for doc in toc_files():
        assert (book / f"{doc}.html").exists(), f"{doc} is not in the built book"


@pytest.mark.slow
def test_book_widgets_are_served_locally(book):
    """The widget manager is served from _static/widgets (with its licence), never from a CDN, and the
    chapters with widgets carry their stored state."""
    static = book / "_static" / "widgets"
    assert (static / "embed.js").stat().st_size > 1_000_000
    assert (static / "LICENSE").exists() and (static / "embed.js.LICENSE.txt").exists()
    for rel in WIDGET_PAGES:
        page = (book / rel).read_text(encoding="utf-8")
        assert re.search(r'<script src="\.\./_static/widgets/embed\.js(\?v=[0-9a-f]+)?"', page), f"{rel} does not load the widget manager"
        assert 'type="application/vnd.jupyter.widget-state+json"' in page, f"{rel} has no stored widget state"
        assert 'type="application/vnd.jupyter.widget-view+json"' in page, f"{rel} shows no widget"
        assert "require.js" not in page and "cdn.jsdelivr" not in page and "cdnjs" not in page


@pytest.mark.slow
def test_book_math_is_served_locally(book):
    assert (book / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert list((book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    page = (book / "notebooks" / "01_introduction.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-chtml.js"' in page
    assert re.search(r'<div class="math notranslate nohighlight">\s*\\\[', page), "no display math on the introduction"


# What a browser fetches on its own: scripts, stylesheets, images, media, frames, preloads, CSS url()s.
_FETCHED = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*>"""
    r"""|url\(\s*["']?([^"')]+)["']?\s*\)"""
    r"""|@import\s+["']([^"']+)["']""",
    re.IGNORECASE,
)


def _remote_fetches(text: str) -> list[str]:
    found = []
    for match in _FETCHED.finditer(text):
        url = next(g for g in match.groups() if g)
        if match.group(2) is not None:  # a <link>: only stylesheets, icons, preloads and the like are fetched
            tag = match.group(0).lower()
            if not re.search(r"""rel\s*=\s*["'][^"']*(stylesheet|icon|preload|prefetch|modulepreload|manifest)""", tag):
                continue
        parsed = urlparse(url.strip())
        if parsed.scheme in ("http", "https") or url.strip().startswith("//"):
            found.append(url)
    return found


@pytest.mark.slow
def test_book_fetches_nothing_remote(book):
    """No page or stylesheet of the built book makes the browser fetch from another host."""
    offenders = {}
    for path in list(book.rglob("*.html")) + list(book.rglob("*.css")):
        if "mathjax" in path.parts:
            continue
        remote = _remote_fetches(path.read_text(encoding="utf-8", errors="replace"))
        if remote:
            offenders[str(path.relative_to(book))] = sorted(set(remote))
    assert not offenders, f"the book makes the browser fetch remote URLs: {offenders}"


def test_remote_fetch_detector():
    assert _remote_fetches('<script src="https://cdn.example/x.js"></script>') == ["https://cdn.example/x.js"]
    assert _remote_fetches('<link rel="stylesheet" href="//fonts.example/css">') == ["//fonts.example/css"]
    assert _remote_fetches("a { background: url('https://x.example/a.png') }") == ["https://x.example/a.png"]
    assert _remote_fetches('<a href="https://example.org/paper">paper</a>') == []
    assert _remote_fetches('<link rel="canonical" href="https://example.org/">') == []
    assert _remote_fetches('<script src="../_static/mathjax/tex-chtml.js"></script>') == []


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, checked before the book is built: skip without it, but fail under CI."""
    reason = None
    if not Path(browser_check.CHROMIUM).exists():
        reason = f"{browser_check.CHROMIUM} is missing (Debian: apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            reason = f"playwright is not installed ({exc})"
    if reason:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"browser check cannot run under CI: {reason}")
        pytest.skip(reason)
    return browser_check.CHROMIUM


def browser_pages() -> list[str]:
    """Every page of the table of contents, as paths of the built site."""
    return [f"{doc}.html" for doc in toc_files()]


@pytest.mark.slow
def test_book_renders_in_chromium(chromium, book):
    for shot in SCREENSHOTS.values():
        shot.unlink(missing_ok=True)
    pages = browser_pages()
    assert set(SCREENSHOTS) <= set(pages) and set(WIDGET_PAGES) <= set(pages)
    reports = browser_check.check_pages(book, pages, screenshots=SCREENSHOTS, timeout_s=60, chromium=chromium)
    problems = [p for r in reports for p in r.problems()]
    assert not problems, "\n".join(problems)
    by_page = dict(zip(pages, reports))
    intro = by_page["notebooks/01_introduction.html"]
    assert intro.n_mjx_display >= 1, "no display equation was typeset on the introduction"
    assert intro.n_mjx >= intro.n_math > 0
    for rel, (menus, sliders, audio) in WIDGET_PAGES.items():
        r = by_page[rel]
        assert r.n_widget_views >= 1 and r.n_widgets_rendered == r.n_widget_views, f"{rel}: widgets not rendered"
        assert r.n_widgets_visible >= 1, f"{rel}: no visible widget"
        assert r.n_dropdowns >= menus and r.n_sliders >= sliders, f"{rel}: {r.n_dropdowns} menus, {r.n_sliders} sliders"
        assert r.n_audio >= audio, f"{rel}: {r.n_audio} visible <audio> elements"
        assert r.n_switched >= 1, f"{rel}: no widget control changed what its widget shows"
    for rel, shot in SCREENSHOTS.items():
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {rel}"
    heights = {rel: r.height_px for rel, r in by_page.items()}
    print("page heights at 1280 px:", heights)
    stale = [rel for rel in browser_check.PAGES_OVER_HEIGHT_LIMIT
             if heights.get(rel, 0) <= browser_check.MAX_PAGE_HEIGHT_PX]
    assert not stale, (f"{stale} now fit within {browser_check.MAX_PAGE_HEIGHT_PX} px: "
                       "remove them from browser_check.PAGES_OVER_HEIGHT_LIMIT")
    shown = {Path(src).name for r in reports for src, _ in r.figure_text}
    still_small = {Path(src).name for r in reports for src, _ in r.small_figure_text(known=True)}
    fixed = sorted((browser_check.FIGURES_WITH_SMALL_TEXT & shown) - still_small)
    assert not fixed, f"{fixed} no longer show small text: remove them from browser_check.FIGURES_WITH_SMALL_TEXT"


# --------------------------------------------------------------------------- the reading checks can fail

def _png(width: int, height: int, dpi: float, min_font_pt: float | None = None) -> bytes:
    import io

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if min_font_pt is not None:
        info.add_text(browser_check.MIN_FONT_KEY, f"{min_font_pt:.1f}")
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG", dpi=(dpi, dpi), pnginfo=info)
    return buf.getvalue()


_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
<link rel="icon" href="data:,"></head><body><main><article class="bd-article"><section>
<h1>A page</h1>
{body}
</section></article></main></body></html>"""
_LONG = "x = " + " + ".join(["some_long_variable_name"] * 12)

_GOOD = """
<p>Two sounds, then a table.</p>
<div class="cell"><div class="cell_input"><pre style="white-space: pre-wrap; width: 300px">{long}</pre></div>
<div class="cell_output"><div class="output text_html" style="overflow-x: auto; width: 300px">
<table><tr><td style="min-width: 500px">wide</td><td>last</td></tr></table></div></div></div>
<img src="fig.png" style="width: 800px">
""".format(long=_LONG)

_BAD = """
<p>| a | b |
|---|---|
| 1 | 2 |</p>
<div class="cell"><div class="cell_input"><pre style="white-space: pre; width: 300px">{long}</pre></div>
<div class="cell_output"><div class="output text_html" style="overflow: hidden; width: 300px">
<table><tr><td style="min-width: 500px">wide</td><td>last</td></tr></table></div></div></div>
<img src="fig.png" style="width: 150px">
<img src="small_font.png" style="width: 600px">
<div class="cell"><div class="cell_output"><pre>embedding:  50%|█████     | 256/512 [00:19&lt;00:20, 12.78clip/s]</pre></div></div>
<div style="height: {tall}px"></div>
<script>console.error("something broke"); undefinedFunction();</script>
""".format(long=_LONG, tall=browser_check.MAX_PAGE_HEIGHT_PX + 1000)


def test_figure_text_rule():
    """A figure without its font size stored: FIGURE_MIN_FONT_PT (9 pt) at 110 dpi is 13.75 px in the file,
    a quarter of that shown at a quarter of its width (pHYs stores pixels a metre: the resolution comes
    back within 1e-3); a figure that stores 7 pt is measured at 7 pt."""
    pt = browser_check.FIGURE_MIN_FONT_PT
    png = _png(1000, 100, 110)
    assert browser_check.smallest_figure_text_px(png, 1000, 1000) == pytest.approx(pt * 110 / 72, rel=1e-3)
    assert browser_check.smallest_figure_text_px(png, 1000, 250) == pytest.approx(pt * 110 / 72 / 4, rel=1e-3)
    stored = _png(1000, 100, 110, min_font_pt=7.0)
    assert browser_check.smallest_figure_text_px(stored, 1000, 1000) == pytest.approx(7 * 110 / 72, rel=1e-3)
    assert browser_check.image_info(b"not an image") == (None, None)


def test_figure_style_and_check_agree():
    """The check assumes what the style sets: no text under FIGURE_MIN_FONT_PT, not even at a named small
    size, and the figure's smallest size stored under one key."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties

    from sclap_nb import viz

    viz.book_style()
    keys = ["font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
            "legend.fontsize", "legend.title_fontsize"]
    sizes = {k: FontProperties(size=plt.rcParams[k]).get_size_in_points() for k in keys}
    sizes |= {name: FontProperties(size=name).get_size_in_points() for name in ("xx-small", "x-small", "small")}
    assert min(sizes.values()) >= browser_check.FIGURE_MIN_FONT_PT, sizes
    assert viz.MIN_FONT_KEY == browser_check.MIN_FONT_KEY
    fig, ax = plt.subplots()
    ax.annotate("a note", (0.5, 0.5), fontsize="x-small")
    assert viz.smallest_font_pt(fig) >= browser_check.FIGURE_MIN_FONT_PT
    plt.close(fig)


@pytest.mark.slow
def test_reading_checks_fail_on_a_bad_page(chromium, tmp_path):
    (tmp_path / "fig.png").write_bytes(_png(1000, 200, 110))
    (tmp_path / "small_font.png").write_bytes(_png(1000, 200, 110, min_font_pt=4.0))
    (tmp_path / "good.html").write_text(_PAGE.format(body=_GOOD), encoding="utf-8")
    (tmp_path / "bad.html").write_text(_PAGE.format(body=_BAD), encoding="utf-8")
    good, bad = browser_check.check_pages(tmp_path, ["good.html", "bad.html"], chromium=chromium, timeout_s=30)
    assert good.problems() == [], good.problems()
    problems = "\n".join(bad.problems())
    for expected in ("console error: something broke", "JavaScript error:", "pipe table left as raw text",
                     "wider than its box", "table: cut off by a box that does not scroll",
                     f"over the limit of {browser_check.MAX_PAGE_HEIGHT_PX} px", "progress bar left in an output"):
        assert expected in problems, f"{expected!r} not found in:\n{problems}"
    small = dict(bad.small_figure_text())
    assert small.get("fig.png", 99) < browser_check.MIN_FIGURE_TEXT_PX  # 13.75 px shown at 0.15: 2.1 px
    assert small.get("small_font.png", 99) < browser_check.MIN_FIGURE_TEXT_PX  # 4 pt at full width: 6.1 px
    assert good.height_px < bad.height_px and bad.height_px > browser_check.MAX_PAGE_HEIGHT_PX


def test_references_are_labelled_as_they_are_cited():
    """The list of references labels each work "Author et al., year", as the author_year citations read."""
    sys.path.insert(0, str(BOOK_EXTENSIONS))
    import citations
    from pybtex.database import parse_file

    entries = parse_file(REPO / "references.bib").entries
    assert citations.author_year_label(entries["hu2025salm"]) == "Hu et al., 2025"
    assert citations.author_year_label(entries["ganin2015grl"]) == "Ganin and Lempitsky, 2015"
    assert citations.author_year_label(entries["oord2018cpc"]) == "van den Oord et al., 2018"
    assert citations.author_year_label(entries["tsalm"]) == "Cell778, 2025"
    labels = list(citations.AuthorYearLabelStyle().format_labels([entries["ganin2015grl"], entries["ganin2015grl"]]))
    assert labels == ["Ganin and Lempitsky, 2015a", "Ganin and Lempitsky, 2015b"]


@pytest.mark.slow
def test_references_page_uses_the_author_year_labels(book):
    page = (book / "notebooks" / "references.html").read_text(encoding="utf-8")
    assert re.search(r'class="label"><span class="fn-bracket">\[</span>Hu et al\., 2025<', page), "no author-year labels"
    assert not re.search(r'class="label"><span class="fn-bracket">\[</span>\d+<', page), "numbered labels"
