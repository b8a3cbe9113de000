#!/usr/bin/env python3
"""Host side of the virtio-net KVM test, run inside the test's network namespace.

usage: tap-peer.py <ifname> <echoes> <timeout-seconds>

Waits for TAP <ifname>, receives the guest's broadcast hello (ethertype 0x88b5),
records the TAP's IPv4 addresses, answers it with "host-frame-0", then sends "host-frame-1".."host-frame-<echoes>"
and expects each back from the guest with the MACs swapped. Prints one JSON
object on stdout; exits 1 on timeout.
"""
import json
import os
import socket
import subprocess
import sys
import time

ETHERTYPE = 0x88B5
ifname, echoes, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
report = {"interface": ifname}


def fail(why):
    report["error"] = why
    print(json.dumps(report), flush=True)
    sys.exit(1)


while not os.path.exists(f"/sys/class/net/{ifname}"):
    if time.monotonic() > deadline:
        fail("interface never appeared")
    time.sleep(0.02)

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
sock.bind((ifname, 0))
with open(f"/sys/class/net/{ifname}/address") as f:
    host_mac = bytes.fromhex(f.read().strip().replace(":", ""))
report["host_mac"] = host_mac.hex(":")


def receive(predicate):
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            frame, address = sock.recvfrom(65536)
        except socket.timeout:
            return None
        if address[2] == socket.PACKET_OUTGOING:
            continue
        if predicate(frame):
            return frame


def send(destination, payload):
    frame = destination + host_mac + ETHERTYPE.to_bytes(2, "big") + payload
    while True:
        try:
            sock.send(frame)
            return
        except OSError as e:  # the VMM may not have brought the interface up yet
            if time.monotonic() > deadline:
                fail(f"send failed: {e}")
            time.sleep(0.02)


hello = receive(lambda f: f[14:].startswith(b"guest-kit net hello"))
if hello is None:
    fail("no hello frame from the guest")
guest_mac = hello[6:12]
addresses = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", ifname], capture_output=True, text=True).stdout.split()
report["ipv4"] = [addresses[i + 1] for i, word in enumerate(addresses) if word == "inet"]
report["guest_mac"] = guest_mac.hex(":")
report["hello_destination"] = hello[0:6].hex(":")
report["hello"] = hello[14:].decode()
send(guest_mac, b"host-frame-0")

report["echoes"] = []
for i in range(1, echoes + 1):
    payload = f"host-frame-{i}".encode()
    send(guest_mac, payload)
    echo = receive(lambda f: f[14:].startswith(payload))
    if echo is None:
        fail(f"echo {i} never came back")
    report["echoes"].append({"payload": echo[14:].decode(), "destination": echo[0:6].hex(":"), "source": echo[6:12].hex(":")})

print(json.dumps(report), flush=True)
