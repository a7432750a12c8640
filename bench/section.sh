#!/usr/bin/env bash
# Replaces section NAME of FILE (the lines between "<!-- begin NAME -->" and "<!-- end NAME -->")
# with standard input and keeps the rest of FILE; appends the section if FILE lacks it. Each
# harness owns one section of bench/RESULTS.md, so running one keeps the others' figures.
# Usage: bench/section.sh NAME FILE < text
set -euo pipefail
name=$1 file=$2
body=$(mktemp) new=$(mktemp "$file.XXXXXX")
trap 'rm -f "$body" "$new"' EXIT
cat > "$body"
touch "$file"
awk -v begin="<!-- begin $name -->" -v end="<!-- end $name -->" -v body="$body" '
  function emit(  line) { print begin; while ((getline line < body) > 0) print line; print end; done = 1 }
  $0 == begin { emit(); skipping = 1; next }
  skipping { if ($0 == end) skipping = 0; next }
  { print }
  END { if (!done) { if (NR) print ""; emit() } }
' "$file" > "$new"
mv "$new" "$file"
