# mk/docs.mk — documentation: every code block builds, and the Swift API reference.
#
#   make test-docs   extract every fenced code block of README.md, docs/*.md and
#                    bindings/python/README.md (Tests/docs/check_docs.py): Swift blocks
#                    built as executables of one consumer package that depends on Eddy by
#                    path (.build/docs-check/swift) and run; C blocks compiled with -Wall
#                    -Wextra -Werror, linked against libeddy.so and run; Python blocks run
#                    with the project venv's interpreter, like every Python test (mk/deps.mk).
#                    <!-- fragment: why --> above a fence skips it (listed, with the reason).
#                    Also: every public declaration in Sources/Eddy has a /// doc comment
#                    (Tests/docs/check_doc_comments.py); every relative link names a file in
#                    the repository (Tests/docs/check_links.py); `make help` lists every target of
#                    TEST_TARGETS and every `make X` the docs name (Tests/docs/check_make_help.py);
#                    the README's and docs/PERFORMANCE.md's generated performance blocks are
#                    what bench/results/latest.json (a reference run) gives (bench/doc_tables.py
#                    --check); docs/RELIABILITY.md's suite lists are the make files'
#                    (Tests/docs/check_suite_lists.py); the checkers' own test first (Tests/docs/test_check_docs.py: they
#                    fail on broken blocks).
#   make docs        DocC reference of the Eddy module (Sources/Eddy/Eddy.docc + doc
#                    comments) into $(SCRATCH)/docs; `make docs-preview` serves it.
#
# swift-docc-plugin is a dependency of Package.swift only when EDDY_DOCC=1, so a plain
# build, `swift test` or a wheel build never resolves it.

DOCS_CHECK_OUT := $(SCRATCH)/docs-check
DOCS_OUT := $(SCRATCH)/docs
# Its own scratch folder: the plugin's resolution never touches the main build's.
DOCS_SCRATCH := $(SCRATCH)/docc
DOCS_FLAGS := --target Eddy --output-path $(DOCS_OUT) --disable-indexing --warnings-as-errors \
              --transform-for-static-hosting --hosting-base-path eddy

TEST_TARGETS += test-docs

.PHONY: test-docs docs-check docs docs-preview

test-docs: build $(VENV_STAMP) ## build and run every code block in README.md, docs/*.md, bindings/python/README.md
	@$(MAKE) --no-print-directory docs-check

docs-check: c-lib
	$(VENV_PY) Tests/docs/test_check_docs.py $(LIBDIR)/libeddy.so $(C_LIB)
	$(VENV_PY) Tests/docs/check_doc_comments.py
	@mkdir -p $(DOCS_CHECK_OUT) && $(MAKE) --no-print-directory -s help > $(DOCS_CHECK_OUT)/make-help.txt
	$(VENV_PY) Tests/docs/check_links.py
	$(VENV_PY) Tests/docs/check_make_help.py $(DOCS_CHECK_OUT)/make-help.txt $(TEST_TARGETS)
	$(VENV_PY) bench/doc_tables.py --check
	$(VENV_PY) Tests/docs/check_suite_lists.py "C_SUITES=$(C_SUITES)" "REL_C_SUITES=$(REL_C_SUITES)" \
	    "VG_C_SUITES=$(VG_C_SUITES)" "SANLIB_TSAN_SUITES=$(SANLIB_TSAN_SUITES)" \
	    "SANLIB_ASAN_SUITES=$(SANLIB_ASAN_SUITES)"
	$(VENV_PY) Tests/docs/check_docs.py --out $(DOCS_CHECK_OUT) --library $(LIBDIR)/libeddy.so \
	    --c-libdir $(C_LIB)

docs: ## generate the Eddy module's DocC reference (SCRATCH/docs, .build/docs)
	EDDY_DOCC=1 swift package --scratch-path $(DOCS_SCRATCH) --allow-writing-to-directory $(DOCS_OUT) \
	    generate-documentation $(DOCS_FLAGS)
	@echo "docs: open $(DOCS_OUT)/index.html through a web server, or run make docs-preview"

docs-preview: ## serve the DocC reference at http://127.0.0.1:8000/documentation/eddy
	EDDY_DOCC=1 swift package --scratch-path $(DOCS_SCRATCH) --disable-sandbox \
	    preview-documentation --target Eddy
