#!/bin/sh
# mk/deps.sh — install the Debian packages whose header or tool is missing (used by mk/deps.mk).
#
#   sh mk/deps.sh PKG...       PKG from the table in present() below
#
# Each package is judged by what the build actually uses (a header the compiler finds, a
# tool on PATH), not by dpkg's database: a header installed any other way counts.
# When everything is present it runs nothing else (no apt-get update) and prints nothing.
# Otherwise: apt-get update + apt-get install -y, as root or through sudo; with neither,
# one line naming the packages and exit 1.
#
# Knobs (for testing the logic on a machine that has everything):
#   DEPS_FORCE_MISSING="pkg ..."  treat these packages as missing
#   DEPS_DRY_RUN=1                print the commands instead of running them
#   DEPS_AS_USER=1                behave as a non-root user (root's shortcut off)
#   DEPS_NO_SUDO=1                behave as if sudo were not installed
set -u
CC=${CC:-cc}

# present PKG: 0 when what PKG provides is usable here.
present() {
    case "$1" in
    libffi-dev)    printf '#include <ffi.h>\n' | "$CC" -E -x c - >/dev/null 2>&1 ;;
    libcmocka-dev) printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\n' |
                       "$CC" -E -x c - >/dev/null 2>&1 ;;
    pkg-config)    command -v pkg-config >/dev/null 2>&1 ;;
    curl)          command -v curl >/dev/null 2>&1 ;;
    valgrind)      command -v valgrind >/dev/null 2>&1 ;;
    # Debian's python3 ships venv without ensurepip until python3-venv is installed.
    python3-venv)  "${PYTHON_BOOTSTRAP:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1 ;;
    *) echo "mk/deps.sh: no check for package '$1'" >&2; exit 2 ;;
    esac
}

missing=""
for p in "$@"; do
    case " ${DEPS_FORCE_MISSING:-} " in *" $p "*) missing="$missing $p"; continue ;; esac
    present "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
missing=${missing# }

if [ "$(id -u)" = 0 ] && [ -z "${DEPS_AS_USER:-}" ]; then
    sudo=""
elif [ -z "${DEPS_NO_SUDO:-}" ] && command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "make deps: missing Debian packages; as root run: apt-get update && apt-get install -y $missing" >&2
    exit 1
fi

echo "make deps: installing $missing"
run() { if [ -n "${DEPS_DRY_RUN:-}" ]; then echo "would run: $*"; else "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
run $sudo apt-get update -qq || exit 1
# shellcheck disable=SC2086 # word splitting of the package list is intended
run $sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 $missing || exit 1
[ -n "${DEPS_DRY_RUN:-}" ] && exit 0
# What apt installed must now pass the same checks.
for p in $missing; do
    present "$p" || { echo "make deps: $p installed but its check still fails" >&2; exit 1; }
done
