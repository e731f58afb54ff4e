#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Minimal QMP client for the dmatag VM: hot-unplug and re-plug an NVMe.

Usage:
  qmp.py SOCK unplug ID              device_del ID, wait for DEVICE_DELETED
  qmp.py SOCK plug ID BUS IMAGE      blockdev-add IMAGE, device_add nvme ID on BUS
  qmp.py SOCK query                  list the NVMe controllers QEMU has now

Exits 0 on success; prints a one-line reason and exits 1 otherwise.
"""

import json
import socket
import sys
import time


class QMP:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError("%s: %s" % (name, reply["error"].get("desc")))
            return reply.get("return")

    def wait_event(self, name, dev_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev["event"] == name and ev.get("data", {}).get("device") == dev_id:
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no %s for %s within %ds" % (name, dev_id, timeout))
            self.sock.settimeout(left)
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)


def unplug(q, dev_id):
    q.cmd("device_del", id=dev_id)
    # pciehp: attention button, 5 s delay, then the guest releases the device
    q.wait_event("DEVICE_DELETED", dev_id, 60)


def plug(q, dev_id, bus, image):
    node = "%s-%d" % (dev_id, int(time.time() * 1000) % 1000000)
    q.cmd("blockdev-add", driver="raw", **{"node-name": node},
          file={"driver": "file", "filename": image})
    # the id of a just-deleted device can stay busy for a moment
    for _ in range(50):
        try:
            q.cmd("device_add", driver="nvme", id=dev_id, bus=bus,
                  serial=node.replace("-", ""), drive=node)
            return
        except RuntimeError as err:
            if "Duplicate" not in str(err) and "in use" not in str(err):
                raise
            time.sleep(0.2)
    raise RuntimeError("device_add %s: id stays in use" % dev_id)


def query(q):
    for dev in q.cmd("query-pci")[0]["devices"]:
        for sub in (dev.get("pci_bridge") or {}).get("devices", []):
            if sub.get("class_info", {}).get("class") == 0x0108:
                print("%s bus %d" % (sub.get("qdev_id"), dev["bus"]))


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sock, op, args = argv[1], argv[2], argv[3:]
    ops = {"unplug": (unplug, 1), "plug": (plug, 3), "query": (query, 0)}
    if op not in ops or len(args) != ops[op][1]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        q = QMP(sock)
        ops[op][0](q, *args)
    except (OSError, RuntimeError) as err:
        print("qmp %s %s: %s" % (op, " ".join(args), err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
