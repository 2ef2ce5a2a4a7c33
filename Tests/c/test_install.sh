#!/bin/sh
# Tests/c/test_install.sh VERSION SONAME — `make install` / `make uninstall` into a temporary
# prefix (run by `make c-test-install` with MAKE and CC set).
#  - the README's two ways to build and run a program against a non-system prefix:
#    pkg-config + LD_LIBRARY_PATH, and pkg-config + an rpath (no environment at run time);
#  - every version agrees: header macros (VERSION), eddy_version(), eddy_version_string(),
#    the installed file name, the soname (SONAME = libeddy.so.MAJOR), eddy.pc;
#  - uninstall removes exactly what install added: files that were there before stay.
set -eu
version=$1 soname=$2
MAKE=${MAKE:-make} CC=${CC:-cc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
listing() { (cd "$prefix" && find . ! -type d | sort); }

# Things the prefix already holds: another library, another version of eddy, shared folders.
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
echo other > "$prefix/lib/libother.so.1"; echo other > "$prefix/include/other.h"
echo other > "$prefix/lib/pkgconfig/other.pc"; echo old > "$prefix/lib/libeddy.so.0.0.9"
before=$(listing)

$MAKE --no-print-directory install PREFIX="$prefix" DESTDIR= >/dev/null
for f in lib/libeddy.so.$version include/eddy.h lib/pkgconfig/eddy.pc; do
    [ -f "$prefix/$f" ] || fail "$f not installed"
done
[ "$(readlink "$prefix/lib/$soname")" = "libeddy.so.$version" ] || fail "$soname does not link to libeddy.so.$version"
[ "$(readlink "$prefix/lib/libeddy.so")" = "$soname" ] || fail "libeddy.so does not link to $soname"

real_soname=$(readelf -d "$prefix/lib/libeddy.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$real_soname" = "$soname" ] || fail "the library's soname is '$real_soname', the header's major version says $soname"
[ "$soname" = "libeddy.so.${version%%.*}" ] || fail "soname $soname does not carry major version ${version%%.*}"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion eddy)" = "$version" ] || fail "eddy.pc says $(pkg-config --modversion eddy), the header $version"

cp Tests/c/install_app.c "$tmp/app.c"
# shellcheck disable=SC2046 # pkg-config's flags are meant to split
( cd "$tmp" && $CC -std=c11 -Wall -Wextra -Werror app.c $(pkg-config --cflags --libs eddy) -o app &&
  $CC -std=c11 -Wall -Wextra -Werror app.c $(pkg-config --cflags --libs eddy) \
      -Wl,-rpath,"$(pkg-config --variable=libdir eddy)" -o app-rpath )
readelf -d "$tmp/app" | grep -q "NEEDED.*\[$soname\]" || fail "app does not record NEEDED $soname"
expected="installed libeddy $version (eddy_version() $version) works"
out=$(timeout 60 env -i LD_LIBRARY_PATH="$prefix/lib" "$tmp/app") || fail "app (LD_LIBRARY_PATH) failed: $out"
[ "$out" = "$expected" ] || fail "app says '$out', expected '$expected'"
out=$(timeout 60 env -i "$tmp/app-rpath") || fail "app-rpath failed: $out"
[ "$out" = "$expected" ] || fail "app-rpath says '$out', expected '$expected'"
echo "test-install: $out; soname $soname; eddy.pc $version; LD_LIBRARY_PATH and rpath runs ok"

$MAKE --no-print-directory uninstall PREFIX="$prefix" DESTDIR= >/dev/null
after=$(listing)
[ "$after" = "$before" ] || fail "after uninstall the prefix holds:
$after
expected:
$before"
echo "test-install: uninstall left exactly what was there before ($(echo "$before" | wc -l) files)"
