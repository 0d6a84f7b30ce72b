#!/bin/sh
# SPDX-License-Identifier: MIT
# The front never calls a parser (issue 11 §2): no symbol the front's libraries need from
# outside themselves is one that src/probes/parse defines. Prints each offending symbol.
# Usage: front_links.sh PARSE_LIB FRONT_LIB...
set -eu
parse=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -g --defined-only "$parse" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/parse"
[ -s "$tmp/parse" ] || { echo "front_links: no symbol in $parse" >&2; exit 1; }
for lib in "$@"; do
	nm -u "$lib" | awk '{ print $NF }' | sort -u >"$tmp/need"
	if comm -12 "$tmp/parse" "$tmp/need" | grep . >"$tmp/bad"; then
		echo "front_links: $lib calls the parsers:" >&2
		cat "$tmp/bad" >&2
		exit 1
	fi
done
echo "front_links: $# front libraries, none calls one of $(wc -l <"$tmp/parse") parser symbols"
