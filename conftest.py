"""Repository-wide pytest set-up: offline Hugging Face, nbval with tolerances for recorded numbers
(``sclap_nb.nbval_records``), and chapter figures written outside the checkout while testing."""

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# chapters re-executed by nbval save their figures here, not into the tracked figures/ folder
os.environ.setdefault("SCLAP_FIGURES_DIR", tempfile.mkdtemp(prefix="sclap-test-figures-"))

pytest_plugins = ["sclap_nb.nbval_records"]
