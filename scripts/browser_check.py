"""Open pages of the built book in headless Chromium and check that they render offline.

For each page: no failed request, no HTTP error, no request leaves 127.0.0.1, every <img> loaded,
MathJax typeset every formula (no raw TeX left, no TeX error), every output area of a notebook cell
shows something (a widget whose state or manager is missing leaves an empty one), every stored widget
view is rendered by the bundled widget manager, and a full-page screenshot is saved. It also counts
the visible widgets and <audio> elements, and works each widget menu and slider once: choosing
another option must change what the widget shows, with no kernel behind the page.

It also checks that a page can be read at 1280 px (the viewport of every check):

* no console error and no uncaught JavaScript error;
* no Markdown pipe table left as raw text (a paragraph holding a ``|---|---|`` row), and no progress bar
  (``42%|████``) left in a stored output;
* no horizontal overflow: no code cell, text output or output box wider than its box
  (``scrollWidth > clientWidth``), no page that scrolls sideways; a wide table scrolls inside its own
  box (``overflow-x: auto``) and its last column can be scrolled into view;
* no page taller than :data:`MAX_PAGE_HEIGHT_PX` (the document's ``scrollHeight``), except the pages
  listed in :data:`PAGES_OVER_HEIGHT_LIMIT`, which are known to be too long and are to be split;
* no figure whose text is shown under :data:`MIN_FIGURE_TEXT_PX`. A picture's text size is not in the
  page, so it is computed from the image: ``sclap_nb.viz.save`` stores the smallest font size of the
  figure (points, PNG text :data:`MIN_FONT_KEY`); a figure that does not is assumed to use the book
  style's smallest, :data:`FIGURE_MIN_FONT_PT` (``sclap_nb.viz.book_style`` sets no text smaller). A PNG
  stores its resolution (pHYs; :data:`DEFAULT_IMAGE_DPI` when it does not), so that text is
  ``font_pt * dpi / 72`` pixels tall in the file and ``* shown width / natural width`` on the page (an
  SVG: 96/72 CSS pixels a point). Images not shown (a folded solution) are skipped.

Used by tests/test_book.py; also runs on its own against a built book:

    .venv/bin/python scripts/browser_check.py _build/html notebooks/01_introduction.html \
        --screenshots test-artifacts

Chromium is Debian's (`apt-get install chromium`), driven through Playwright's Python API; Playwright's
own browser download is never used.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1"}
VIEWPORT = {"width": 1280, "height": 900}

#: the tallest page that fits a sitting, in CSS pixels at 1280 px wide
MAX_PAGE_HEIGHT_PX = 15_000
#: pages known to be taller than MAX_PAGE_HEIGHT_PX (page -> what would shorten it); each is to be split
#: or shortened, and then removed from here (tests/test_book.py fails on an entry that already fits)
PAGES_OVER_HEIGHT_LIMIT: dict[str, str] = {}
#: the smallest text a figure may show, in CSS pixels
MIN_FIGURE_TEXT_PX = 9.0
#: figures (file names) known to show text under MIN_FIGURE_TEXT_PX (none at present: every figure is
#: drawn at or above the style's floor for named font sizes, sclap_nb.viz.NAMED_SIZE_FLOOR); a figure
#: listed here is allowed small text until its chapter redraws it, and tests/test_book.py fails on an
#: entry that no longer shows small text
FIGURES_WITH_SMALL_TEXT: frozenset[str] = frozenset()
#: the smallest font size of the book's figure style (sclap_nb.viz.book_style: 9.2 pt for the named small
#: sizes), rounded down, in points: assumed for a figure that does not store its own under MIN_FONT_KEY
FIGURE_MIN_FONT_PT = 9.0
#: PNG text key of a figure's smallest font size in points (sclap_nb.viz.MIN_FONT_KEY)
MIN_FONT_KEY = "Sclap-min-font-pt"
#: the resolution assumed for a raster image that does not store its own
DEFAULT_IMAGE_DPI = 100.0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is http.server's
        pass


@contextmanager
def serve_directory(root: Path):
    """Serve `root` on 127.0.0.1 at a free port, in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class PageReport:
    url: str
    screenshot: Path | None = None
    failed_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    n_images: int = 0
    n_math: int = 0  # elements that Sphinx marked as math
    n_mjx: int = 0  # MathJax-rendered formulas (mjx-container)
    n_mjx_display: int = 0
    raw_tex: list[str] = field(default_factory=list)
    tex_errors: list[str] = field(default_factory=list)
    mathjax_missing: bool = False
    n_outputs: int = 0  # output areas of notebook cells
    empty_outputs: list[str] = field(default_factory=list)
    n_widget_views: int = 0  # widget views stored in the page
    n_widgets_rendered: int = 0  # of those, rendered with a non-zero size
    n_widgets_visible: int = 0  # visible .jupyter-widgets elements (any depth)
    n_dropdowns: int = 0
    n_sliders: int = 0
    n_audio: int = 0  # <audio> elements with a non-zero size
    n_switched: int = 0  # widget controls that changed what their widget shows
    switch_failures: list[str] = field(default_factory=list)
    page: str = ""  # the page, relative to the site
    page_errors: list[str] = field(default_factory=list)  # uncaught JavaScript errors
    height_px: int = 0  # the document's scrollHeight at the check's viewport
    prose_words: int = 0  # words of the article outside code cells, code blocks, tables and formulas
    pipe_tables: list[str] = field(default_factory=list)
    progress_bars: list[str] = field(default_factory=list)  # outputs that hold a progress bar (tqdm)
    overflows: list[str] = field(default_factory=list)
    table_problems: list[str] = field(default_factory=list)
    page_scrolls_sideways: bool = False
    figure_text: list[tuple[str, float]] = field(default_factory=list)  # (image, smallest text px), shown images

    def small_figure_text(self, known: bool = False) -> list[tuple[str, float]]:
        """Figures whose smallest text is shown under MIN_FIGURE_TEXT_PX; ``known``: only those listed in
        FIGURES_WITH_SMALL_TEXT (else only those not listed)."""
        return [(src, px) for src, px in self.figure_text
                if px < MIN_FIGURE_TEXT_PX and (Path(src).name in FIGURES_WITH_SMALL_TEXT) == known]

    def problems(self) -> list[str]:
        out = []
        out += [f"request failed: {r}" for r in self.failed_requests]
        out += [f"HTTP error: {r}" for r in self.http_errors]
        out += [f"request to a remote host: {r}" for r in self.remote_requests]
        out += [f"image not loaded: {r}" for r in self.broken_images]
        out += [f"math left as raw TeX: {r}" for r in self.raw_tex]
        out += [f"MathJax TeX error: {r}" for r in self.tex_errors]
        if self.mathjax_missing:
            out.append("MathJax did not load or did not start")
        if self.n_math and self.n_mjx < self.n_math:
            out.append(f"only {self.n_mjx} of {self.n_math} math elements rendered by MathJax")
        out += [f"empty output area: {r}" for r in self.empty_outputs]
        if self.n_widgets_rendered < self.n_widget_views:
            out.append(f"only {self.n_widgets_rendered} of {self.n_widget_views} stored widgets rendered")
        out += [f"widget control had no effect: {r}" for r in self.switch_failures]
        out += [f"console error: {r}" for r in self.console_errors]
        out += [f"JavaScript error: {r}" for r in self.page_errors]
        out += [f"pipe table left as raw text: {r}" for r in self.pipe_tables]
        out += [f"progress bar left in an output: {r}" for r in self.progress_bars]
        out += [f"wider than its box (scrollWidth > clientWidth): {r}" for r in self.overflows]
        out += [f"table: {r}" for r in self.table_problems]
        if self.page_scrolls_sideways:
            out.append(f"the page scrolls sideways at {VIEWPORT['width']} px")
        if self.height_px > MAX_PAGE_HEIGHT_PX and self.page not in PAGES_OVER_HEIGHT_LIMIT:
            out.append(f"page is {self.height_px} px tall, over the limit of {MAX_PAGE_HEIGHT_PX} px")
        out += [f"figure text shown at about {px:.1f} px (< {MIN_FIGURE_TEXT_PX:g} px): {src}"
                for src, px in self.small_figure_text()]
        return [f"{self.url}: {p}" for p in out]


_WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'

# Widget views that the manager has rendered: it inserts a div.widget-subarea before each view script.
_WIDGETS_RENDERED_JS = r"""
() => {
  const views = Array.from(document.querySelectorAll('%s'));
  const done = views.filter(s => {
    const area = s.previousElementSibling;
    if (!area || !area.classList.contains('widget-subarea')) return false;
    const r = area.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
  return [views.length, done.length];
}
""" % _WIDGET_VIEW

# Output areas of notebook cells (myst-nb: div.cell_output) that show nothing: no size, or no text,
# image, media, table or widget in them.
_OUTPUTS_JS = r"""
() => {
  const outs = Array.from(document.querySelectorAll('div.cell_output'));
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const empty = outs.filter(o => {
    if (!visible(o)) return true;
    const text = (o.innerText || '').trim();
    const media = Array.from(o.querySelectorAll('img, svg, canvas, audio, video, table, .jupyter-widgets')).some(visible);
    return !text && !media;
  }).map(o => {
    const cell = o.closest('.cell');
    const src = cell ? (cell.querySelector('.cell_input') || cell).innerText.trim().split('\n')[0] : '';
    return 'after cell ' + JSON.stringify(src.slice(0, 80));
  });
  const visibleAll = sel => Array.from(document.querySelectorAll(sel)).filter(visible).length;
  return {
    n_outputs: outs.length,
    empty: empty,
    n_widgets_visible: visibleAll('.jupyter-widgets'),
    n_dropdowns: visibleAll('.widget-dropdown select'),
    n_sliders: visibleAll('.widget-slider .noUi-handle, .widget-hslider .noUi-handle'),
    n_audio: visibleAll('audio'),
  };
}
"""

_INSPECT_JS = r"""
() => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.currentSrc || i.src);
  const math = Array.from(document.querySelectorAll('.math'));
  const raw = math.filter(el => !el.querySelector('mjx-container') && el.tagName !== 'MJX-CONTAINER')
                  .map(el => el.textContent.trim().slice(0, 80));
  // Raw TeX delimiters in the visible text outside code blocks.
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml').forEach(e => e.remove());
  const txt = clone.textContent;
  const delims = ['\\[', '\\]', '\\(', '\\)', '$$'].filter(d => txt.includes(d));
  return {
    n_images: imgs.length,
    broken: broken,
    n_math: math.length,
    n_mjx: document.querySelectorAll('mjx-container').length,
    n_mjx_display: document.querySelectorAll('mjx-container[display="true"]').length,
    raw: raw.concat(delims.map(d => 'delimiter ' + d + ' in the text')),
    tex_errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent),
  };
}
"""


# Reading at the viewport's width: overflow, raw pipe tables, wide tables, height, prose, images shown.
_LAYOUT_JS = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const where = el => {
    const cell = el.closest('.cell');
    if (cell) {
      const src = (cell.querySelector('.cell_input') || cell).innerText.trim().split('\n')[0];
      return 'cell ' + JSON.stringify(src.slice(0, 80));
    }
    const sec = el.closest('section');
    const h = sec && sec.querySelector('h1, h2, h3');
    return 'in ' + JSON.stringify(h ? h.innerText.replace(/#$/, '').trim().slice(0, 60) : el.tagName.toLowerCase());
  };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const overflows = [];
  const boxes = article.querySelectorAll(
    'div.cell_input pre, div.cell_input div.highlight, div.cell_output pre, div.cell_output div.highlight, div.cell_output > div.output');
  for (const el of boxes) {
    if (!visible(el) || el.scrollWidth <= el.clientWidth + 1) continue;
    if (el.matches('div.output.text_html') && scrolls(el)) continue;  // a box that scrolls: its tables are checked below
    overflows.push(`${el.tagName.toLowerCase()}.${[...el.classList].slice(0, 2).join('.')} ${el.scrollWidth} > ${el.clientWidth} px, ${where(el)}`);
  }
  const tables = [];
  for (const t of article.querySelectorAll('table')) {
    if (!visible(t)) continue;
    let box = t.parentElement;
    while (box && box !== article && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    if (!box || box === article) {
      if (t.getBoundingClientRect().right > article.getBoundingClientRect().right + 1) tables.push('runs past the column, ' + where(t));
      continue;
    }
    if (box.scrollWidth <= box.clientWidth + 1) continue;
    if (!scrolls(box)) { tables.push('cut off by a box that does not scroll, ' + where(t)); continue; }
    const rows = t.querySelectorAll('tr');
    const last = rows.length ? rows[rows.length - 1].lastElementChild : null;
    const before = box.scrollLeft;
    box.scrollLeft = box.scrollWidth;
    if (last && last.getBoundingClientRect().right > box.getBoundingClientRect().right + 1) {
      tables.push('last column cannot be scrolled into view, ' + where(t));
    }
    box.scrollLeft = before;
  }
  // a delimiter row; Sphinx's smart quotes turn its --- into an em dash
  const sep = /^\s*\|?\s*:?[-\u2013\u2014]+:?\s*(\|\s*:?[-\u2013\u2014]+:?\s*)+\|?\s*$/m;
  const pipes = Array.from(article.querySelectorAll('p, li'))
    .filter(p => !p.closest('pre, code, table') && sep.test(p.textContent))
    .map(p => JSON.stringify(p.textContent.trim().split('\n')[0].slice(0, 80)) + ' ' + where(p));
  const bars = Array.from(article.querySelectorAll('div.cell_output'))
    .filter(o => /\b\d{1,3}%\|/.test(o.innerText || ''))
    .map(o => where(o));
  const clone = article.cloneNode(true);
  clone.querySelectorAll('.cell, pre, table, script, style, mjx-container, .math, .headerlink, details.sd-dropdown > :not(summary)').forEach(e => e.remove());
  const words = (clone.textContent.match(/[\p{L}\p{N}][\p{L}\p{N}'’.,:;%°-]*/gu) || []).length;
  const images = Array.from(article.querySelectorAll('img')).filter(visible).map(i => ({
    src: i.currentSrc || i.src, natural: i.naturalWidth, shown: i.getBoundingClientRect().width,
  }));
  return {
    overflows: overflows, tables: tables, pipes: pipes, bars: bars, words: words, images: images,
    height: document.documentElement.scrollHeight,
    sideways: document.documentElement.scrollWidth > window.innerWidth + 1,
  };
}
"""


def image_info(data: bytes) -> tuple[float | None, float | None]:
    """(resolution, smallest font size in points) a raster image stores: the resolution in its PNG pHYs
    or JPEG JFIF header, the font size under :data:`MIN_FONT_KEY` (written by ``sclap_nb.viz.save``);
    None for what it does not store."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            dpi, font = img.info.get("dpi"), img.info.get(MIN_FONT_KEY)
    except Exception:  # not an image PIL reads: nothing known
        return None, None
    dpi = float(dpi[0]) if dpi and dpi[0] and dpi[0] >= 1 else None
    try:
        font = float(font) if font is not None else None
    except ValueError:
        font = None
    return dpi, font


def smallest_figure_text_px(data: bytes, natural_width: float, shown_width: float, svg: bool = False) -> float:
    """How tall (CSS px) the smallest text of a figure is shown: its smallest font (stored by
    ``sclap_nb.viz.save``, else FIGURE_MIN_FONT_PT) at the image's resolution (an SVG: 96/72 px a point),
    scaled by shown width / natural width."""
    if natural_width <= 0:
        return float("inf")
    dpi, font_pt = (None, None) if svg else image_info(data)
    px_per_pt = 96.0 / 72.0 if svg else (dpi or DEFAULT_IMAGE_DPI) / 72.0
    return (font_pt or FIGURE_MIN_FONT_PT) * px_per_pt * shown_width / natural_width


def _image_bytes(site: Path, base: str, src: str) -> tuple[bytes | None, bool]:
    """The bytes of an image the page shows (a file of the site, or a data: URI) and whether it is an SVG."""
    import base64
    from urllib.parse import unquote

    if src.startswith("data:"):
        head, _, payload = src.partition(",")
        data = base64.b64decode(payload) if head.endswith(";base64") else unquote(payload).encode()
        return data, "svg" in head
    if not src.startswith(base):
        return None, False
    path = site / unquote(urlparse(src).path).lstrip("/")
    if not path.is_file():
        return None, False
    return path.read_bytes(), path.suffix.lower() == ".svg"


def _check_layout(page, site: Path, base: str, report: PageReport) -> None:
    layout = page.evaluate(_LAYOUT_JS)
    report.overflows = layout["overflows"]
    report.table_problems = layout["tables"]
    report.pipe_tables = layout["pipes"]
    report.progress_bars = layout["bars"]
    report.prose_words = layout["words"]
    report.height_px = int(layout["height"])
    report.page_scrolls_sideways = bool(layout["sideways"])
    for img in layout["images"]:
        data, svg = _image_bytes(site, base, img["src"])
        if data is None:
            continue
        px = smallest_figure_text_px(data, img["natural"], img["shown"], svg=svg)
        name = img["src"] if not img["src"].startswith("data:") else img["src"][:40] + "..."
        report.figure_text.append((name.removeprefix(base), round(px, 2)))


def _widget_signature(control) -> str:
    """What the widget around ``control`` shows now: its text and the sources of its images and media."""
    return control.evaluate(
        """el => {
          const box = el.closest('.widget-vbox') || el.closest('.widget-subarea') || el.parentElement;
          const srcs = Array.from(box.querySelectorAll('img, audio, video')).map(m => m.currentSrc || m.src || '');
          return box.innerText + '|' + srcs.join(',');
        }"""
    )


def _work_widgets(page, report: PageReport) -> None:
    """Choose another option of each visible widget menu and slider; what the widget shows must change."""
    for i, select in enumerate(page.locator(".widget-dropdown select").all()):
        if not select.is_visible():
            continue
        options = select.locator("option").all()
        if len(options) < 2:
            continue
        before = _widget_signature(select)
        select.select_option(index=1)
        page.wait_for_timeout(300)
        if _widget_signature(select) == before:
            report.switch_failures.append(f"dropdown {i}: choosing its second option changed nothing")
        else:
            report.n_switched += 1
        select.select_option(index=0)
    for i, handle in enumerate(page.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").all()):
        if not handle.is_visible():
            continue
        before = _widget_signature(handle)
        handle.focus()
        page.keyboard.press("Home")
        page.wait_for_timeout(150)
        after_home = _widget_signature(handle)
        page.keyboard.press("End")
        page.wait_for_timeout(300)
        if len({before, after_home, _widget_signature(handle)}) < 2:
            report.switch_failures.append(f"slider {i}: moving it to either end changed nothing")
        else:
            report.n_switched += 1


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in LOCAL_HOSTS


def check_pages(
    site: Path,
    pages: list[str],
    screenshots: dict[str, Path] | None = None,
    timeout_s: float = 60.0,
    chromium: str = CHROMIUM,
    work_widgets: bool = True,
) -> list[PageReport]:
    """Serve `site` locally, open each of `pages` (paths relative to it) and report on each;
    ``work_widgets``: also operate each widget menu and slider (see the module docstring)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    screenshots = screenshots or {}
    reports: list[PageReport] = []
    timeout_ms = timeout_s * 1000
    with serve_directory(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=timeout_ms,
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},  # Chromium keeps its own allocator
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, service_workers="block")
            context.set_default_timeout(timeout_ms)
            for rel in pages:
                report = PageReport(url=base + rel, page=rel)
                page = context.new_page()

                def on_request(req, report=report):
                    if not _is_local(req.url):
                        report.remote_requests.append(req.url)

                def on_failed(req, report=report):
                    report.failed_requests.append(f"{req.url} ({req.failure})")

                def on_response(resp, report=report):
                    if resp.status >= 400:
                        report.http_errors.append(f"{resp.url} -> {resp.status}")

                def on_console(msg, report=report):
                    if msg.type == "error":
                        report.console_errors.append(msg.text)

                # Nothing may leave the machine: a remote request is recorded above and aborted here.
                page.route(
                    "**/*",
                    lambda route: route.continue_() if _is_local(route.request.url) else route.abort(),
                )
                page.on("request", on_request)
                page.on("requestfailed", on_failed)
                page.on("response", on_response)
                page.on("console", on_console)
                page.on("pageerror", lambda exc, report=report: report.page_errors.append(str(exc)))

                page.goto(report.url, wait_until="load")
                # MathJax 3 typesets the page once its startup promise resolves. Sphinx loads it only on
                # pages with math: a page with neither math nor the script has nothing to wait for.
                needs_mathjax = page.evaluate(
                    "() => !!document.querySelector('.math, script[src*=\"mathjax\"]')"
                )
                try:
                    if needs_mathjax:
                        page.wait_for_function(
                            "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                            timeout=min(timeout_ms, 20_000),
                        )
                        page.evaluate("() => window.MathJax.startup.promise.then(() => true)")
                except PlaywrightTimeout:
                    report.mathjax_missing = True
                page.wait_for_load_state("networkidle")
                # The widget manager renders the stored widgets after the load event, asynchronously.
                try:
                    page.wait_for_function(
                        f"() => {{ const [n, done] = ({_WIDGETS_RENDERED_JS})(); return done >= n; }}",
                        timeout=min(timeout_ms, 20_000),
                    )
                except PlaywrightTimeout:
                    pass  # reported below as widgets not rendered
                report.n_widget_views, report.n_widgets_rendered = page.evaluate(_WIDGETS_RENDERED_JS)
                outputs = page.evaluate(_OUTPUTS_JS)
                report.n_outputs = outputs["n_outputs"]
                report.empty_outputs = outputs["empty"]
                report.n_widgets_visible = outputs["n_widgets_visible"]
                report.n_dropdowns = outputs["n_dropdowns"]
                report.n_sliders = outputs["n_sliders"]
                report.n_audio = outputs["n_audio"]
                if work_widgets and report.n_widgets_rendered:
                    _work_widgets(page, report)
                info = page.evaluate(_INSPECT_JS)
                report.n_images = info["n_images"]
                report.broken_images = info["broken"]
                report.n_math = info["n_math"]
                report.n_mjx = info["n_mjx"]
                report.n_mjx_display = info["n_mjx_display"]
                report.raw_tex = info["raw"]
                report.tex_errors = info["tex_errors"]
                _check_layout(page, site, base, report)
                shot = screenshots.get(rel)
                if shot is not None:
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shot), full_page=True)
                    report.screenshot = shot
                page.close()
                reports.append(report)
            context.close()
        finally:
            browser.close()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built HTML, e.g. _build/html")
    parser.add_argument("pages", nargs="+", help="pages relative to the site, e.g. notebooks/05_grl.html")
    parser.add_argument("--screenshots", type=Path, help="folder for full-page screenshots")
    args = parser.parse_args(argv)
    shots = {}
    if args.screenshots:
        shots = {p: args.screenshots / ("book_" + Path(p).stem + ".png") for p in args.pages}
    reports = check_pages(args.site, args.pages, shots)
    bad = 0
    for r in reports:
        print(f"{r.url}: {r.n_images} images, {r.n_mjx}/{r.n_math} formulas rendered, "
              f"{r.n_outputs} output areas, {r.n_widgets_rendered}/{r.n_widget_views} widgets rendered "
              f"({r.n_dropdowns} menus, {r.n_sliders} sliders, {r.n_switched} switched), {r.n_audio} audio players, "
              f"{r.height_px} px tall, {r.prose_words} words of prose, smallest figure text "
              f"{min((px for _, px in r.figure_text), default=float('nan')):.1f} px"
              + (f", screenshot {r.screenshot}" if r.screenshot else ""))
        for p in r.problems():
            print("  PROBLEM", p)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
