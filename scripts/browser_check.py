"""Open pages of the built book in headless Chromium and check that they render offline.

For each page: no failed request, no HTTP error, no request leaves 127.0.0.1, every <img> loaded,
MathJax typeset every formula (no raw TeX left, no TeX error), every output area of a notebook cell
shows something (a widget whose state or manager is missing leaves an empty one), every stored widget
view is rendered by the bundled widget manager, and a full-page screenshot is saved. It also counts
the visible widgets and <audio> elements, and works each widget menu and slider once: choosing
another option must change what the widget shows, with no kernel behind the page.

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
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=timeout_ms
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            context.set_default_timeout(timeout_ms)
            for rel in pages:
                report = PageReport(url=base + rel)
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
              f"({r.n_dropdowns} menus, {r.n_sliders} sliders, {r.n_switched} switched), {r.n_audio} audio players"
              + (f", screenshot {r.screenshot}" if r.screenshot else ""))
        for p in r.problems():
            print("  PROBLEM", p)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
