"""Open pages of the built book in headless Chromium and check that they render offline.

For each page: no failed request, no HTTP error, no request leaves 127.0.0.1, every <img> loaded,
MathJax typeset every formula (no raw TeX left, no TeX error), and a full-page screenshot is saved.

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
        return [f"{self.url}: {p}" for p in out]


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
) -> list[PageReport]:
    """Serve `site` locally, open each of `pages` (paths relative to it) and report on each."""
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
                # MathJax 3 typesets the page once its startup promise resolves.
                try:
                    page.wait_for_function(
                        "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                        timeout=min(timeout_ms, 20_000),
                    )
                    page.evaluate("() => window.MathJax.startup.promise.then(() => true)")
                except PlaywrightTimeout:
                    report.mathjax_missing = True
                page.wait_for_load_state("networkidle")
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
        print(f"{r.url}: {r.n_images} images, {r.n_mjx}/{r.n_math} formulas rendered"
              + (f", screenshot {r.screenshot}" if r.screenshot else ""))
        for p in r.problems():
            print("  PROBLEM", p)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
