#!/usr/bin/env python3
"""The file system's part of sov-run's outbox, alone: the floor under the sov-run row of make bench.

Usage: files_floor.py TEMPLATE OUT

For every file in TEMPLATE (a finished outbox), a file of the same name and size is created in
OUT/.staging, written in one call and closed; the file system is synced once (syncfs) with the
staging folder; then each file is renamed into OUT and OUT is synced: what sov-run does with its
units, without reading, checking, writing JSON or keeping a ledger.
"""
import ctypes
import os
import sys


def main(template, out):
    names = sorted(n for n in os.listdir(template) if os.path.isfile(os.path.join(template, n)) and not n.startswith("."))
    sizes = [os.path.getsize(os.path.join(template, n)) for n in names]
    libc = ctypes.CDLL(None, use_errno=True)
    staging_path = os.path.join(out, ".staging")
    os.makedirs(staging_path)
    staging = os.open(staging_path, os.O_RDONLY | os.O_DIRECTORY)
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    filler = b"x" * (max(sizes) if sizes else 0)
    for name, size in zip(names, sizes):
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=staging)
        os.write(fd, memoryview(filler)[:size])
        os.close(fd)
    if libc.syncfs(staging) != 0:
        os.fsync(staging)
    os.fsync(staging)
    for name in names:
        os.rename(name, name, src_dir_fd=staging, dst_dir_fd=folder)
    os.fsync(folder)
    print(f"{len(names)} files, {sum(sizes)} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
