# sclap-notebooks: `make setup` once, then `make train` (the main job) or `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

# tcmalloc (sclap_nb.allocator), preloaded into the processes that train, where `make setup` installed it:
# the same numbers, far fewer page faults (make train 297 s against 440 s on a slower host). Expanded when a
# recipe runs, after setup; empty (the system allocator) where it is not installed or SCLAP_ALLOCATOR=system
PRELOAD = $(if $(filter system,$(SCLAP_ALLOCATOR)),,$(addprefix LD_PRELOAD=,$(firstword $(wildcard $(CURDIR)/$(VENV)/lib/sclap-allocator/libtcmalloc_minimal.so.4))))
.PHONY: setup library train publish ablation bench test test-other-kernels test-fast test-notebooks sync book lab clean

setup: $(BIN)/.installed $(BIN)/.allocator
$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0            # first: the CPU wheel, before anything pulls CUDA builds
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps tinysoundfont  # its pyaudio dependency is for live playback only
	$(BIN)/pip install -q --no-deps aisfx==0.1.2    # a pretrained sound-effects CNN, weights in the wheel (CC BY 4.0); its pins are for its own scripts
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# tcmalloc from Debian into the venv (skips with a message where it cannot); also on a venv made before it
$(BIN)/.allocator: $(BIN)/.installed sclap_nb/allocator.py
	$(BIN)/python -m sclap_nb.allocator install
	touch $@

library: setup                     ## the library of recorded sounds -> data/library/ (Debian packages: 1.1 GB of downloads, ~3 min)
	$(BIN)/python -m sclap_nb.data.library build

# the main job's corpus draws from the library (results/library_study): built once, before the first `make train`
LIBRARY := data/library/manifest.csv
$(LIBRARY): | setup
	$(BIN)/python -m sclap_nb.data.library build

# the main job trains the `main` preset (timed scenes of soundfont and recorded sounds, results/main_study and
# results/library_study) into runs/train; another preset trains into runs/<preset>: `make train PRESET=default`
# is the stClotho halves layout on the soundfont (results/default), which needs no library
PRESET  ?= main
RUN     := runs/$(if $(filter main,$(PRESET)),train,$(PRESET))
train: setup $(if $(filter main,$(PRESET)),$(LIBRARY))  ## the main job: training notebook, headless, default data -> runs/train/ (PRESET=default: the halves layout -> runs/default/)
	mkdir -p runs
	$(PRELOAD) $(BIN)/papermill notebooks/10_train.ipynb $(RUN).ipynb -p preset $(PRESET) -y '{"settings": {"runtime.out_dir": "$(RUN)"}}' --cwd .

publish: setup                     ## copy the finished main job (PRESET=default: the halves run) and ablation into results/ (the book reads them there)
	$(BIN)/python -m sclap_nb.publish --train $(RUN) --as $(if $(filter main,$(PRESET)),train,$(PRESET)) $(if $(wildcard runs/ablation/table.csv),--ablation runs/ablation) --results results

ablation: setup
	$(PRELOAD) $(BIN)/python -m sclap_nb.ablation --out runs/ablation --publish results/ablation

bench: setup                       ## step profile fp32 vs bf16, loader, data throughput, step-time ratio, peak RSS
	$(BIN)/python benchmarks/profile_step.py
	$(BIN)/python benchmarks/bench_loader.py
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/run_all.py
	$(BIN)/python benchmarks/flops_share.py

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with nbval.cfg --nbval-cell-timeout=600 --nbval-kernel-startup-timeout=120

# the tests run on both cores (pytest-xdist, two workers), then the chapters' two passes side by side
# (each chapter computes on one thread; the second pass goes through them in reverse order, so the two
# rarely build one corpus at once); each pass's log is printed whole when it ends
test: setup                        ## unit tests, notebooks (nbval + papermill), book and browser checks
	$(PRELOAD) $(BIN)/python -m pytest tests -n 2
	$(MAKE) --no-print-directory -j2 --output-sync=target test-notebooks test-other-kernels

# the chapters again on another kernel path (generic CPU kernels, two threads), the way another CPU
# computes them: recorded numbers must stay within their tolerances there too
test-other-kernels: setup
	$(PRELOAD) ATEN_CPU_CAPABILITY=default SCLAP_NUM_THREADS=2 $(BIN)/python -m pytest $(shell ls -r notebooks/*.ipynb) $(NBVAL) -q

test-notebooks: setup              ## re-run the chapters and compare their stored outputs
	$(PRELOAD) $(BIN)/python -m pytest notebooks/*.ipynb $(NBVAL)

test-fast: setup                   ## unit tests only: nothing that trains, runs a notebook, or starts a process or server (marked slow)
	$(PRELOAD) $(BIN)/python -m pytest tests -m "not slow" -q -n 2

sync:
	$(BIN)/jupytext --sync notebooks/*.py

book: setup
	$(BIN)/jupyter-book build . -W --keep-going

lab: setup                         ## JupyterLab on the introduction; the .py chapters open as notebooks (scripts/lab-settings)
	$(PRELOAD) JUPYTER_PATH=$(CURDIR)/scripts/lab-settings $(BIN)/jupyter lab --LabApp.app_settings_dir=$(CURDIR)/scripts/lab-settings \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks/01_introduction.md \
		$(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf _build .pytest_cache        # build outputs only: runs/, data/ and results/ are yours to remove
