#!/usr/bin/env bash
# Publishes the two shipped binaries as trimmed, fully static NativeAOT executables into build/bin/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/bin
symbols=build/symbols
mkdir -p "$out" "$symbols"

for project in cloud-hypervisor ch-remote; do
  echo "publish: $project"
  log=$(mktemp)
  status=0
  dotnet publish "src/$project/$project.csproj" -c Release -o "build/publish/$project" -nologo -v quiet >"$log" 2>&1 || status=$?
  # glibc's static-linking notes about getpwnam/getpwuid are expected; everything else is shown.
  grep -v -E "getpw(nam|uid)_r|^\s*$|pal_uid.c|libSystem.Native.a" "$log" || true
  rm -f "$log"
  if [ "$status" -ne 0 ]; then
    echo "publish: $project failed to build (exit $status); build/bin is unchanged" >&2
    exit 1
  fi
  test -x "build/publish/$project/$project" || { echo "publish: $project was not produced" >&2; exit 1; }
  # Copy then rename: a running binary (a test, a benchmark) keeps its old inode instead of failing the copy.
  cp "build/publish/$project/$project" "$out/$project.tmp"
  mv -f "$out/$project.tmp" "$out/$project"
  [ -f "build/publish/$project/$project.dbg" ] && cp "build/publish/$project/$project.dbg" "$symbols/"
done

for binary in "$out"/cloud-hypervisor "$out"/ch-remote; do
  if ! file "$binary" | grep -q "statically linked"; then
    echo "publish: $binary is not statically linked: $(file "$binary")" >&2
    exit 1
  fi
  printf 'publish: %-28s %8d bytes, static\n' "$binary" "$(stat -c %s "$binary")"
done
