#!/usr/bin/env python3
"""Opens TAP <ifname> the way a management stack hands one to the VMM (IFF_TAP |
IFF_NO_PI | IFF_VNET_HDR), brings it up, and execs the command with the
descriptor inherited; "{fd}" in the arguments becomes its number. With
--queues N it opens N queues of a multi-queue TAP (IFF_MULTI_QUEUE) and "{fds}"
becomes their numbers, comma-separated.

usage: tap-open-exec.py [--queues N] <ifname> <command> [args...]
"""
import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x4000, 0x0100

arguments = sys.argv[1:]
queues = 1
if arguments[0] == "--queues":
    queues, arguments = int(arguments[1]), arguments[2:]
ifname, command = arguments[0], arguments[1:]
flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if queues > 1 else 0)
fds = []
for _ in range(queues):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", ifname.encode(), flags))
    os.set_inheritable(fd, True)
    fds.append(fd)
subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
numbers = ",".join(str(fd) for fd in fds)
os.execvp(command[0], [a.replace("{fds}", numbers).replace("{fd}", str(fds[0])) for a in command])
