#!/usr/bin/env bash
# Browser check of a rendered fmbench report: console, sections, charts, images; saves a screenshot.
#
# usage: scripts/check-report.sh <report.html> <screenshot.png> [width,height]
#
# Loads the report in headless Chromium (Debian: apt-get install -y chromium; or set CHROMIUM)
# and fails (exit 1) when:
#   - the page logs any console message: the report runs no scripts, so every message is a
#     CSP violation, a blocked external load or a parse/load error;
#   - a section listed in <meta name="fmbench-sections"> (or a built-in one) is missing;
#   - the number of <svg> elements differs from <meta name="fmbench-charts">, a chart figure
#     does not hold exactly one <svg>, an <svg> has no positive size, or an attribute is NaN;
#   - the number of <img> elements differs from <meta name="fmbench-images"> or an image is
#     not an inline data: URI; any src/href points to an http(s) resource;
#   - no screenshot was written.
# Exit 2: bad usage, missing file or no Chromium.
set -euo pipefail

usage() {
  echo "usage: $0 <report.html> <screenshot.png> [width,height]" >&2
  exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
report=$1
shot=$2
size=${3:-1280,2400}
[[ -f $report ]] || {
  echo "check-report: report not found: $report" >&2
  exit 2
}
[[ $size =~ ^[0-9]+,[0-9]+$ ]] || {
  echo "check-report: window size must look like 1280,2400 (got '$size')" >&2
  exit 2
}

chrome=${CHROMIUM:-}
if [[ -z $chrome ]]; then
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null; then
      chrome=$c
      break
    fi
  done
fi
[[ -n $chrome ]] || {
  echo "check-report: no chromium found; install it (apt-get install -y chromium) or set CHROMIUM" >&2
  exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(realpath "$report")"
mkdir -p "$(dirname "$shot")"
shot_abs="$(realpath "$(dirname "$shot")")/$(basename "$shot")"
rm -f "$shot_abs"

run_chrome() {
  local profile
  profile=$(mktemp -d -p "$work")
  timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 "$@" "$url"
}

errors=0
fail() {
  echo "FAIL: $*" >&2
  errors=$((errors + 1))
}

run_chrome --dump-dom >"$work/dom.html" 2>"$work/dom.log" ||
  fail "chromium could not dump the DOM (exit $?)"
(cd "$work" && run_chrome --window-size="$size" --screenshot="$shot_abs") \
  >"$work/shot.out" 2>"$work/shot.log" || fail "chromium could not take the screenshot (exit $?)"
dom="$work/dom.html"
[[ -s $dom ]] || {
  cat "$work/dom.log" >&2
  echo "FAIL: empty DOM dump" >&2
  exit 1
}

# 1. Console messages (any level).
if grep -h 'CONSOLE' "$work/dom.log" "$work/shot.log" | sed 's/^\[[^]]*\] *//' | sort -u \
  >"$work/console.txt" && [[ -s "$work/console.txt" ]]; then
  fail "the page logged $(wc -l <"$work/console.txt") console message(s):"
  sed 's/^/    /' "$work/console.txt" >&2
fi

# Number of (extended-regex) matches in a file; 0 when none.
count() { { grep -oE -- "$1" "$2" || true; } | wc -l; }

meta() { sed -n "s/.*<meta name=\"$1\" content=\"\\([^\"]*\\)\".*/\\1/p" "$dom" | head -1; }

# 2. Sections.
sections=$(meta fmbench-sections)
[[ -n $sections ]] || fail 'no <meta name="fmbench-sections"> in the page'
builtin="manifest plugins comparison quality-vs-nfe training samples failures about"
for id in $(tr ' ' '\n' <<<"$sections $builtin" | sort -u); do
  grep -q "<section id=\"$id\"" "$dom" || fail "section #$id is missing"
done

# 3. Charts.
want_charts=$(meta fmbench-charts)
got_svgs=$(count '<svg[ >]' "$dom")
if [[ -z $want_charts ]]; then
  fail 'no <meta name="fmbench-charts"> in the page'
elif [[ $got_svgs -ne $want_charts ]]; then
  fail "the page says $want_charts chart(s) but the browser DOM has $got_svgs <svg> element(s)"
fi
bad_figs=$(awk 'BEGIN { RS = "<figure class=\"chart\"" }
  NR > 1 { chunk = substr($0, 1, index($0, "</figure>")); n = gsub(/<svg[ >]/, "", chunk);
           if (n != 1) bad++ }
  END { print bad + 0 }' "$dom")
[[ $bad_figs -eq 0 ]] || fail "$bad_figs chart figure(s) do not hold exactly one <svg>"
while read -r tag; do
  w=$(sed -n 's/.* width="\([0-9.]*\)".*/\1/p' <<<"$tag")
  h=$(sed -n 's/.* height="\([0-9.]*\)".*/\1/p' <<<"$tag")
  if [[ -z $w || -z $h || $w == 0 || $h == 0 ]]; then
    fail "an <svg> has no positive width/height: ${tag:0:120}"
  fi
done < <(grep -o '<svg[ >][^>]*>' "$dom")
awk 'BEGIN { RS = "<svg[ >]" } NR > 1 { print substr($0, 1, index($0, "</svg>")) }' "$dom" \
  >"$work/svgs.txt"
nan=$(count '="[^"]*NaN[^"]*"' "$work/svgs.txt")
[[ $nan -eq 0 ]] || fail "$nan attribute value(s) contain NaN (a chart drew invalid data)"

# 4. Images and external references.
want_imgs=$(meta fmbench-images)
got_imgs=$(count '<img[ >]' "$dom")
[[ $got_imgs -eq ${want_imgs:-0} ]] ||
  fail "the page says ${want_imgs:-0} image(s) but the browser DOM has $got_imgs <img> element(s)"
imgs_data=$(count '<img[^>]* src="data:image/[^"]*"' "$dom")
non_data=$((got_imgs - imgs_data))
[[ $non_data -eq 0 ]] || fail "$non_data <img> element(s) do not use an inline data: URI"
external=$(count '(src|href)="(https?:)?//[^"]*"|url\(["'\'']?(https?:)?//' "$dom")
[[ $external -eq 0 ]] || fail "$external reference(s) to external http(s) resources"

# 5. Screenshot.
if [[ ! -s $shot_abs ]]; then
  fail "no screenshot was written to $shot"
fi

if [[ $errors -gt 0 ]]; then
  echo "check-report: $errors problem(s) in $report" >&2
  exit 1
fi
echo "check-report: OK: $report ($got_svgs charts, $got_imgs images, sections: $sections);" \
  "screenshot $shot ($size)"
