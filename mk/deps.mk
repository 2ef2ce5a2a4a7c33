# mk/deps.mk — `make deps`: what `make demo` and `make test` need, installed when missing.
#
#   make deps          Debian packages whose header or tool is absent (mk/deps.sh: apt-get
#                      update + install, as root or through sudo), then the project venv
#                      .venv with the Python test dependencies (bindings/python/requirements-test.txt).
#                      Nothing else; with everything present it takes well under a second.
#   make deps-ci       deps + what the CI-only tier adds (valgrind, for check-sanitizers).
#   make test-deps     checks mk/deps.sh's decisions without installing anything.
#
# The venv is (re)made only when it is missing or the requirements file changed (a stamp);
# every Python that needs test dependencies runs as $(VENV_PY). The system interpreter is
# never pip-installed into (Debian's python3 refuses it: PEP 668).
# Knobs: DEPS_FORCE_MISSING="pkg ..." and DEPS_DRY_RUN=1 (see mk/deps.sh), PYTHON_BOOTSTRAP.

PYTHON_BOOTSTRAP ?= python3
export PYTHON_BOOTSTRAP
VENV := .venv
VENV_PY := $(abspath $(VENV))/bin/python
VENV_REQ := bindings/python/requirements-test.txt
VENV_STAMP := $(VENV)/.requirements.stamp

# Build: libffi-dev (+ pkg-config, which SwiftPM asks for libffi's flags). C tests: libcmocka-dev.
# Examples test: curl (keep-alive check). Venv: python3-venv (Debian's python3 only).
DEPS_APT := libffi-dev pkg-config libcmocka-dev curl python3-venv
DEPS_CI_APT := valgrind

.PHONY: deps deps-apt deps-ci test-deps
deps: deps-apt $(VENV_STAMP) ## install what is missing: Debian packages (apt-get), the project .venv

deps-apt:
	@sh mk/deps.sh $(DEPS_APT)

deps-ci: deps ## deps plus what only the CI tier needs (valgrind)
	@sh mk/deps.sh $(DEPS_CI_APT)

# A venv whose interpreter no longer runs (e.g. its base Python was removed) is made again.
$(VENV_STAMP): $(VENV_REQ) | deps-apt
	@if ! $(VENV_PY) -c '' 2>/dev/null; then \
	    echo "make deps: creating $(VENV) ($$($(PYTHON_BOOTSTRAP) --version))"; \
	    rm -rf $(VENV) && $(PYTHON_BOOTSTRAP) -m venv $(VENV) || exit 1; \
	fi
	@echo "make deps: installing $(VENV_REQ) into $(VENV)"
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r $(VENV_REQ)
	@touch $@

# The valgrind run of the CI-only tier gets its tool the same way.
san-valgrind: | deps-ci

TEST_TARGETS += test-deps
test-deps: deps-apt ## check make deps's decisions without installing anything
	sh Tests/deps/test_deps.sh $(DEPS_APT)
