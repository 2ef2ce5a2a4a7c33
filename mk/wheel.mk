# mk/wheel.mk — `make test-wheel` (part of `make test`): the Python package as a user gets it.
#
# `pip wheel ./bindings/python` (bindings/python/setup.py builds libeddy.so with SwiftPM into
# the wheel), then: the wheel is a platform wheel carrying eddy/libeddy.so; it installs into
# a fresh venv ($(SCRATCH)/wheel-venv); Tests/wheel/smoke.py runs from a temporary folder
# outside the repository under `env -i` (no EDDY_LIBRARY, no LD_LIBRARY_PATH) and echoes
# over 127.0.0.1 with the package's own library.
# The wheel's SwiftPM build uses $(SCRATCH) with the Makefile's BUILD_FLAGS, so after `build`
# it only checks that libeddy.so is up to date instead of compiling Eddy a second time.

WHEEL_DIR := $(SCRATCH)/wheel
WHEEL_VENV := $(SCRATCH)/wheel-venv

TEST_TARGETS += test-wheel
.PHONY: test-wheel wheel-run

test-wheel: build $(VENV_STAMP) ## build the wheel, install it in a fresh venv, smoke-test it outside the repo
	@$(MAKE) --no-print-directory wheel-run

wheel-run:
	@grep -qF 'SWIFT_BUILD_FLAGS = "$(BUILD_FLAGS)"' bindings/python/setup.py || \
	    { echo "test-wheel: bindings/python/setup.py's SWIFT_BUILD_FLAGS differ from BUILD_FLAGS ($(BUILD_FLAGS))"; exit 1; }
	@rm -rf $(WHEEL_DIR) $(WHEEL_VENV)
	EDDY_SWIFT_SCRATCH=$(abspath $(SCRATCH)) $(VENV_PY) -m pip wheel -q --no-deps -w $(WHEEL_DIR) ./bindings/python
	@plat=$$($(VENV_PY) -c "import sysconfig; print(sysconfig.get_platform().replace('-', '_').replace('.', '_'))"); \
	whl=$$(ls $(WHEEL_DIR)); echo "test-wheel: built $$whl"; \
	case "$$whl" in eddy-*-py3-none-$$plat.whl) ;; \
	    *) echo "test-wheel: expected one wheel eddy-*-py3-none-$$plat.whl in $(WHEEL_DIR)"; exit 1 ;; esac; \
	$(VENV_PY) -c "import sys, zipfile; n = zipfile.ZipFile(sys.argv[1]).namelist(); \
	    sys.exit(0 if 'eddy/libeddy.so' in n else 'test-wheel: no eddy/libeddy.so in the wheel: %s' % n)" $(WHEEL_DIR)/$$whl
	$(PYTHON_BOOTSTRAP) -m venv --without-pip $(WHEEL_VENV)
	$(VENV_PY) -m pip --python $(WHEEL_VENV)/bin/python install -q --no-index --no-deps $(WHEEL_DIR)/*.whl
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	env -i PATH=/usr/bin:/bin HOME="$$tmp" $(abspath $(WHEEL_VENV))/bin/python $(abspath Tests/wheel/smoke.py) $(EDDY_VERSION_STR)
