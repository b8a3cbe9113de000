#!/usr/bin/env bash
# Publishes the test flavour of cloud-hypervisor into build/test-bin/: the shipped binary plus the seccomp test
# trigger (CH_SECCOMP_TEST_VIOLATE=<thread kind> makes a thread of that kind perform a forbidden syscall). The
# integration tests use it to watch the process die of a violation; build/bin never contains the trigger.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/test-bin
mkdir -p "$out"
log=$(mktemp)
status=0
# Its own intermediate and output folders, so this build and scripts/publish.sh never reuse each other's objects.
dotnet publish src/cloud-hypervisor/cloud-hypervisor.csproj -c Release -nologo -v quiet \
  -p:SeccompTestTrigger=true -p:IntermediateOutputPath=obj/test-trigger/ -p:OutputPath=bin/test-trigger/ \
  -o build/publish/test-cloud-hypervisor >"$log" 2>&1 || status=$?
grep -v -E "getpw(nam|uid)_r|^\s*$|pal_uid.c|libSystem.Native.a" "$log" || true
rm -f "$log"
if [ "$status" -ne 0 ]; then
  echo "publish-test: cloud-hypervisor failed to build (exit $status)" >&2
  exit 1
fi
cp build/publish/test-cloud-hypervisor/cloud-hypervisor "$out/cloud-hypervisor.tmp"
mv -f "$out/cloud-hypervisor.tmp" "$out/cloud-hypervisor"
printf 'publish-test: %s %d bytes\n' "$out/cloud-hypervisor" "$(stat -c %s "$out/cloud-hypervisor")"
