#!/usr/bin/env bash
# Makes the .deb packages of a build (cpack), checks what each holds and depends on, unpacks them
# into a scratch root (dpkg -x) and builds the consumer programs against that (check.sh).
#   check-deb.sh BUILD_DIR MODEL
set -euo pipefail
build=$(realpath "$1")
model=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$build/test-deb
rm -rf "$work"
mkdir -p "$work/root"
(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null)
shopt -s nullglob
debs=("$work"/out/*.deb)
((${#debs[@]} == 3)) || { echo "check-deb.sh: expected 3 packages, got: ${debs[*]##*/}" >&2; exit 1; }
for deb in "${debs[@]}"; do
  name=$(dpkg-deb -f "$deb" Package)
  echo "== $name: $(dpkg-deb -f "$deb" Depends)"
  files=$(dpkg-deb -c "$deb" | awk '{print $6}')
  case $name in
    libember2) grep -q 'libember\.so\.2$' <<<"$files" && ! grep -q '\.h$' <<<"$files" ;;
    libember-dev) grep -q 'include/ember\.h$' <<<"$files" && grep -q 'libember\.a$' <<<"$files" &&
                  grep -q 'emberConfig\.cmake$' <<<"$files" && grep -q 'ember\.pc$' <<<"$files" &&
                  dpkg-deb -f "$deb" Depends | grep -q 'libember2 (= ' ;;
    ember-tools) grep -q 'bin/ember-chat$' <<<"$files" && grep -q 'bin/ember-generate$' <<<"$files" ;;
    *) false ;;
  esac || { echo "check-deb.sh: $name does not hold what it should" >&2; exit 1; }
  dpkg -x "$deb" "$work/root"
done
out=$("$work/root/usr/bin/ember-generate" -m "$model" -p "Once upon a time" -n 16 --temp 0)
grep -q "there was a little girl" <<<"$out" || { echo "check-deb.sh: ember-generate from the package failed" >&2; exit 1; }
"$here/check.sh" "$work/root/usr" "$model" "$work/consumer"
