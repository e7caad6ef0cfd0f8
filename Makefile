# The kata's commands. Every target sets itself up on first use (a virtual environment in .venv with
# the pinned requirements), so a fresh clone needs nothing else. `make help` lists them.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TARGET ?= $(or $(KATA_TARGET),exercises)
GRADER := $(PY) -m grader

.DEFAULT_GOAL := help
.PHONY: help setup grade check test test-nightly test-fast doctor new generate stubs mutants bench hint watch compare progress reset grade-all readme clean release gradescope

help:
	@echo "Learner:"
	@echo "  make grade              grade exercises/ and say what to do next (MILESTONES=0 skips the milestones)"
	@echo "  make check [EX=layers] [K=words]  one exercise's tests with readable failures (K: only tests whose names match)"
	@echo "  make hint [EX=layers]   show the next hint (default: the exercise you are on)"
	@echo "  make compare [EX=layers] your numbers next to the expected ones, with the same diagnoses as check"
	@echo "  make watch [EX=layers]  re-run the tests of the exercise whose file you save"
	@echo "  make progress           your points over time"
	@echo "  make reset EX=layers    restore one stub (asks first, keeps a backup; YES=1 skips the question)"
	@echo "Instructor and maintainer:"
	@echo "  make grade TARGET=solutions|DIR   grade the reference, or any folder of exercise files"
	@echo "  make grade-all DIR=submissions/ [OUT=dir] [MILESTONES=1] [JOBS=N]   grade every sub-folder (N at once; default: the cores), write a gradebook"
	@echo "  make release OUT=dir [REPLACE=1]   the student's kata: the learner's commands only, advisory grading"
	@echo "  make gradescope [MILESTONES=off|quick|full]   dist/gradescope-autograder.zip for Gradescope"
	@echo "  make readme             regenerate the exercise map in README.md from the manifest"
	@echo "  make test               the repository's own test suite (the longest end-to-end runs: make test-nightly)"
	@echo "  make test-nightly       the longest end-to-end runs (CI runs both)"
	@echo "  make test-fast          doctor, the contract on the reference and the stubs, and the exercise tests"
	@echo "  make doctor             does everything agree with the manifest? (seconds; says which command mends what)"
	@echo "  make new EX=name        scaffold a new exercise: manifest block, solution, tests, mutants"
	@echo "  make generate           regenerate stubs, README tables and the Classroom workflow from their sources"
	@echo "  make bench              textbook and performance references vs PyTorch; writes .grade/bench.json"
	@echo "  make stubs              regenerate exercises/ from solutions/ (backs up changed files)"

setup: $(STAMP)

# The first run installs the pinned requirements, PyTorch's 190 MB wheel above all. pip compiles no
# bytecode (--no-compile): compiling every module of PyTorch was most of the time (from a fresh clone on a
# shared 2-core machine, load 11-13: 346 and 420 s before, 13-28 s after). uv, tried as well, took 12-17 s
# where pip took 13-17 s, so pip stays. The import check below writes the bytecode of what every grading
# process imports (about 1,000 modules, 14 s), even where PYTHONDONTWRITEBYTECODE is set: without it each
# process compiled NumPy and pytest again (0.9 s against 0.35 s) and PyTorch's imported part (4.2 s against 2.6).
# verify() checks MNIST and keeps its decompressed bytes (grader/data/mnist.py), for every grading run.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "This kata needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	@echo "Setting up $(VENV) with the pinned requirements (first run only: 30-45 s from local wheels, longer"
	@echo "when pip downloads them; PyTorch's 190 MB wheel is most of it)..."
	@start=$$(date +%s); \
	{ test -x $(PY) || $(PYTHON) -m venv $(VENV); } && \
	$(PY) -m pip install --quiet --no-compile --disable-pip-version-check -r requirements.txt 2>&1 | \
		grep -v "is ignored: it is neither"; \
	env -u PYTHONDONTWRITEBYTECODE $(PY) -c 'import numpy, pytest, pytest_timeout, tabulate, matplotlib.pyplot, torch' || \
		{ echo "Installing the requirements failed; see the messages above."; exit 1; }; \
	$(PY) -c 'from grader.data import mnist; mnist.verify()' 2>/dev/null; \
	echo "Set up $(VENV) in $$(( $$(date +%s) - start )) s."
	@if ! command -v bwrap >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing bubblewrap, the sandbox learner code is graded in..."; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) || true; \
		fi; \
		command -v bwrap >/dev/null 2>&1 || echo "Note: bubblewrap is not installed, so grades here are not tamper-proof (fine for practice; see README)."; \
	fi
	@touch $(STAMP)

grade: setup
	@$(GRADER) grade --target "$(TARGET)" $(if $(REPORT),--report "$(REPORT)") $(if $(filter 0 n no false,$(MILESTONES)),--no-milestones)

check: setup
	@$(GRADER) check $(EX) --target "$(TARGET)" $(if $(K),-k "$(K)")

test: setup
	@KATA_TARGET=solutions KATA_ORACLE=both KATA_EDIT_SEARCH=0 $(PY) -m pytest -q -m "not nightly"

test-nightly: setup
	@KATA_TARGET=solutions KATA_ORACLE=both KATA_EDIT_SEARCH=0 $(PY) -m pytest -q -m nightly

test-fast: setup
	@$(PY) -m grader.maintainer.doctor
	@KATA_TARGET=solutions KATA_ORACLE=both KATA_EDIT_SEARCH=0 $(PY) -m pytest -q tests/exercises tests/grader/test_contract.py -k "not known_wrong"

doctor: setup
	@$(PY) -m grader.maintainer.doctor

new: setup
	@test -n "$(EX)" || { echo "Say which exercise: make new EX=name"; exit 2; }
	@$(PY) -m grader.maintainer.new $(EX)

generate: setup
	@$(PY) -m grader.maintainer.stubgen
	@$(PY) -m grader.maintainer.readme
	@$(PY) -m grader.platforms.classroom.workflow --out grader/platforms/classroom/classroom.yml

stubs: setup
	@$(PY) -m grader.maintainer.stubgen

mutants: setup
	@$(PY) -m grader.maintainer.mutation $(EX)

bench: setup
	@$(GRADER) bench

hint: setup
	@$(GRADER) hint $(EX)

watch: setup
	@$(GRADER) watch $(EX) --target "$(TARGET)"

compare: setup
	@$(GRADER) compare $(EX) --target "$(TARGET)"

progress: setup
	@$(GRADER) progress --target "$(TARGET)"

reset: setup
	@$(GRADER) reset $(EX) $(if $(filter 1 y yes true,$(YES)),--yes)

grade-all: setup
	@$(GRADER) grade-all $(DIR) $(if $(OUT),--out "$(OUT)") $(if $(filter 1 y yes true,$(MILESTONES)),--milestones) $(if $(ONLY),--only "$(ONLY)") $(if $(filter 1 y yes true,$(FRESH)),--fresh) $(if $(JOBS),--jobs $(JOBS))

readme: setup
	@$(PY) -m grader.maintainer.readme

release: setup
	@$(PY) -m grader.instructor.release $(if $(OUT),--out "$(OUT)") $(if $(filter 1 y yes true,$(REPLACE)),--replace)

gradescope: setup
	@$(PY) -m grader.platforms.gradescope.build $(if $(MILESTONES),--milestones "$(MILESTONES)")

clean:
	rm -rf .grade .pytest_cache
