#!/bin/sh
# Tests/deps/test_deps.sh PKG... — mk/deps.sh decides right, without installing anything.
# PKG: the packages `make deps` checks (all present once it has run). Absence is simulated:
# DEPS_FORCE_MISSING, a compiler that fails (headers), a PATH without the tools.
set -u
cd "$(dirname "$0")/../.."
fails=0
check() { # check NAME EXPECTED-STATUS ACTUAL-STATUS OUTPUT GREP-PATTERN [ABSENT-PATTERN]
    ok=1
    [ "$2" = "$3" ] || ok=0
    printf '%s\n' "$4" | grep -qE -- "$5" || ok=0
    if [ -n "${6:-}" ] && printf '%s\n' "$4" | grep -qE -- "$6"; then ok=0; fi
    if [ $ok = 1 ]; then echo "ok   $1"; else echo "FAIL $1 (status $3, output: $4)"; fails=$((fails + 1)); fi
}

out=$(sh mk/deps.sh "$@" 2>&1); st=$?
check "everything present: silent, nothing run" 0 $st "x$out" '^x$'

out=$(DEPS_FORCE_MISSING="curl libcmocka-dev" DEPS_DRY_RUN=1 sh mk/deps.sh "$@" 2>&1); st=$?
check "missing packages: update then install exactly those" 0 $st "$out" \
    'would run: apt-get update -qq' 'libffi-dev|pkg-config|sudo'
printf '%s\n' "$out" | grep -qE 'would run: apt-get install .* (curl libcmocka-dev|libcmocka-dev curl)$' ||
    { echo "FAIL install line: $out"; fails=$((fails + 1)); }

out=$(CC=false DEPS_DRY_RUN=1 sh mk/deps.sh libffi-dev libcmocka-dev curl 2>&1); st=$?
check "headers judged by the compiler" 0 $st "$out" 'install .* libffi-dev libcmocka-dev$'

bin=$(mktemp -d); trap 'rm -rf "$bin"' EXIT
ln -s "$(command -v id)" "$bin/id"
cc_abs=$(command -v "${CC:-cc}")
out=$(PATH="$bin" CC="$cc_abs" DEPS_DRY_RUN=1 /bin/sh mk/deps.sh pkg-config curl libffi-dev 2>&1); st=$?
check "tools judged by PATH" 0 $st "$out" 'install .* pkg-config curl$'

out=$(DEPS_AS_USER=1 DEPS_NO_SUDO=1 DEPS_FORCE_MISSING=curl DEPS_DRY_RUN=1 sh mk/deps.sh "$@" 2>&1); st=$?
check "no root, no sudo: one line naming the packages" 1 $st "$out" \
    '^make deps: missing Debian packages; as root run: apt-get update && apt-get install -y curl$' 'would run'
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || { echo "FAIL more than one line: $out"; fails=$((fails + 1)); }

printf '#!/bin/sh\nexit 0\n' > "$bin/sudo"; chmod +x "$bin/sudo"
out=$(PATH="$bin:$PATH" DEPS_AS_USER=1 DEPS_FORCE_MISSING=curl DEPS_DRY_RUN=1 sh mk/deps.sh "$@" 2>&1); st=$?
check "no root, sudo available: through sudo" 0 $st "$out" 'would run: sudo apt-get install .* curl$'

out=$(sh mk/deps.sh no-such-package 2>&1); st=$?
check "a package without a check is an error" 2 $st "$out" "no check for package 'no-such-package'"

[ $fails = 0 ] && echo "test-deps: all passed" || { echo "test-deps: $fails failed"; exit 1; }
