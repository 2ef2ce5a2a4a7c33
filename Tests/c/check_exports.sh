#!/bin/sh
# check_exports.sh LIB HEADER
# Compares the eddy_* functions exported by LIB (nm -D --defined-only) with the
# functions declared in HEADER, both ways. Exits 1 (listing the differences) on
# any mismatch, 2 on usage/tool errors.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 LIB HEADER" >&2
    exit 2
fi
lib=$1
header=$2
[ -r "$lib" ] || { echo "check_exports: cannot read $lib" >&2; exit 2; }
[ -r "$header" ] || { echo "check_exports: cannot read $header" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Exported, defined function/data symbols whose name starts with eddy_.
nm -D --defined-only "$lib" | awk '{ print $NF }' | grep '^eddy_' | sort -u > "$tmp/lib" || true

# Function names declared in the header: strip comments and preprocessor
# lines, join declarations, keep identifiers followed by "(" that start with
# eddy_ and are not function-pointer typedefs ("(*eddy_x)").
sed -e 's,/\*.*\*/,,g' "$header" \
  | awk 'BEGIN{c=0} { line=$0
      if (c) { if (index(line, "*/")) { line=substr(line, index(line, "*/")+2); c=0 } else next }
      if (index(line, "/*")) { line=substr(line, 1, index(line, "/*")-1); c=1 }
      print line }' \
  | grep -v '^[[:space:]]*#' \
  | tr '\n' ' ' | tr ';' '\n' \
  | grep -v 'typedef' \
  | grep -o '\beddy_[A-Za-z0-9_]*[[:space:]]*(' \
  | sed 's/[[:space:]]*($//' | sort -u > "$tmp/hdr"

if [ ! -s "$tmp/hdr" ]; then
    echo "check_exports: no eddy_ functions found in $header" >&2
    exit 2
fi

status=0
missing=$(comm -23 "$tmp/hdr" "$tmp/lib")
extra=$(comm -13 "$tmp/hdr" "$tmp/lib")
if [ -n "$missing" ]; then
    echo "declared in $header but not exported by $lib:"
    echo "$missing" | sed 's/^/  /'
    status=1
fi
if [ -n "$extra" ]; then
    echo "exported by $lib but not declared in $header:"
    echo "$extra" | sed 's/^/  /'
    status=1
fi
if [ $status -eq 0 ]; then
    echo "check_exports: $(wc -l < "$tmp/hdr") functions, header and library agree"
fi
exit $status
