"""Repository-wide pytest set-up: offline Hugging Face, nbval with tolerances for recorded numbers
(``sclap_nb.nbval_records``), and chapter figures written outside the checkout while testing."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# chapters re-executed by nbval save their figures here, not into the tracked figures/ folder
# (a folder of this session's own, removed when the session ends)
if "SCLAP_FIGURES_DIR" not in os.environ:
    os.environ["SCLAP_FIGURES_DIR"] = tempfile.mkdtemp(prefix="sclap-test-figures-")
    atexit.register(shutil.rmtree, os.environ["SCLAP_FIGURES_DIR"], ignore_errors=True)

pytest_plugins = ["sclap_nb.nbval_records"]

# `make test-fast` (-m "not slow") is meant to stay under two minutes on a 2-core machine: after such a run,
# list the tests that took longer than this on their own, to be made faster or marked slow
FAST_TIER_REPORT_S = 5.0

# a full `make test` writes corpora, runs and book builds (into temporary folders and the
# checkout's data/); with less free space than this the header and the summary say so, since a full
# disk shows up as errors at the set-up of unrelated tests
LOW_DISK_GIB = 5.0


def _free_space() -> list[tuple[str, float]]:
    here = os.path.dirname(os.path.abspath(__file__))
    return [(d, shutil.disk_usage(d).free / 2**30) for d in dict.fromkeys([tempfile.gettempdir(), here])]


def pytest_report_header(config):
    return "free disk space: " + ", ".join(f"{gib:.1f} GiB in {d}" for d, gib in _free_space())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    low = [(d, gib) for d, gib in _free_space() if gib < LOW_DISK_GIB]
    if low:
        terminalreporter.write_sep("!", "; ".join(f"only {gib:.1f} GiB free in {d}" for d, gib in low)
                                   + f" (under {LOW_DISK_GIB:g} GiB: errors at set-up may be a full disk)")
    if "not slow" not in (config.getoption("markexpr", "") or ""):
        return
    reports = [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])
               if getattr(r, "when", None) == "call" and r.duration > FAST_TIER_REPORT_S]  # fmt: skip
    if reports:
        terminalreporter.write_sep("-", f"fast-tier tests over {FAST_TIER_REPORT_S:g} s (make them faster or mark them slow)")
        for r in sorted(reports, key=lambda r: -r.duration):
            terminalreporter.write_line(f"{r.duration:6.1f} s  {r.nodeid}")
