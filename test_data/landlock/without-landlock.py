#!/usr/bin/env python3
"""Runs a command as on a kernel without Landlock: a seccomp filter makes the three Landlock syscalls
(x86-64: landlock_create_ruleset 444, landlock_add_rule 445, landlock_restrict_self 446) fail with
ENOSYS, as they do when the kernel is built without CONFIG_SECURITY_LANDLOCK.

usage: without-landlock.py COMMAND [ARG...]"""
import ctypes
import errno
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
LD_W_ABS, JGE_K, JGT_K, RET_K = 0x20, 0x35, 0x25, 0x06
FIRST, LAST = 444, 446


def instruction(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


program = b"".join([
    instruction(LD_W_ABS, 0, 0, 0),                     # A = seccomp_data.nr
    instruction(JGE_K, 0, 2, FIRST),                    # nr < 444: allow
    instruction(JGT_K, 1, 0, LAST),                     # nr > 446: allow
    instruction(RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS),
    instruction(RET_K, 0, 0, SECCOMP_RET_ALLOW),
])


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


if len(sys.argv) < 2:
    sys.exit(__doc__)
libc = ctypes.CDLL(None, use_errno=True)
buffer = ctypes.create_string_buffer(program, len(program))
fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_char_p))
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
    sys.exit(f"prctl(PR_SET_SECCOMP): {os.strerror(ctypes.get_errno())}")
os.execvp(sys.argv[1], sys.argv[1:])
