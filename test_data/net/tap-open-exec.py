#!/usr/bin/env python3
"""Opens TAP <ifname> the way a management stack hands one to the VMM (IFF_TAP |
IFF_NO_PI | IFF_VNET_HDR), brings it up, and execs the command with the
descriptor inherited; "{fd}" in the arguments becomes its number.

usage: tap-open-exec.py <ifname> <command> [args...]
"""
import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000

ifname, command = sys.argv[1], sys.argv[2:]
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", ifname.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
os.set_inheritable(fd, True)
os.execvp(command[0], [a.replace("{fd}", str(fd)) for a in command])
