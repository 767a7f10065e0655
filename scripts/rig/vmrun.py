#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Boot QEMU guests on the rig's initramfs, run guest tests, report TAP.

Single VM:   vmrun.py --tests a,b        (or --test NAME, default: all)
Multi-VM:    vmrun.py --nodes 3 --tests bus-test
             vmrun.py --node-tests 0:primary 1:secondary,other 2:secondary

Every VM gets three UARTs: ttyS0 is the console (captured to
LOGDIR/vmN.log), ttyS1 is the RS-485 bus (a node socket of rs485-hub in
multi-VM runs, or with --hub; otherwise unconnected), ttyS2 carries the
host's answers to the guest's requests:

  "RIG-HUB: <command>"  a console line (optionally after "# "): the command
                        goes to the hub's control socket; the hub's one-line
                        answer ("ok ..."/"err ...") is written to ttyS2.
  "RIG-SYNC: <name>"    barrier: answered "ok" on ttyS2 once every VM of
                        the run reached the same name, "err ..." if a VM
                        ended before reaching it.
  "RIG-KILL: <n>"       power VM n off at once (SIGKILL to its QEMU, like
                        pulling a module out of the rack); answered "ok".
                        Its unfinished tests are reported as skipped,
                        except one that printed a failed check ("not ok")
                        before the kill: that one fails.  Later barriers
                        no longer wait for it.

Guests use /lib/rig.sh (rig_hub, rig_sync) for both.

Failures: a guest test that exits non-zero, a test that outlives its
timeout (killed by the guest, or by the host if the guest stops reacting),
a VM that does not boot or finish within --boot-timeout, and any kernel
splat (WARNING:, BUG:, Oops, lockdep, ...) in any console log.  Output is
TAP, then "vm: N passed, N failed"; exit status 0 only if nothing failed.

--debug-kernel (or RPW_KERNEL=debug in the environment) boots the debug
kernel that scripts/debug-kernel.sh built and cached (lockdep, atomic-sleep
checks, KASAN, kmemleak; RPW_DEBUG_KERNEL_DIR, default build/debug-kernel)
and builds rackpwr.ko and the rig's test modules against it first; guests
then also fail on kmemleak reports of rackpwr objects.

An optional host-side --scenario script runs while the VMs run, with
RIG_HUB_CTL, RIG_HUBCTL (command that talks to the hub), RIG_LOGDIR and
RIG_NODES in its environment; its exit status is one more test.
"""

import argparse
import glob
import lzma
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RIG = os.path.join(TOP, "scripts", "rig")

# Extra time the host grants a test beyond the guest's own timeout before
# it declares the guest wedged.
HOST_GRACE = 8.0

# Kernel messages that fail a run wherever they appear.
SPLATS = re.compile("|".join([
    r"WARNING:", r"BUG:", r"\bOops\b", r"general protection fault",
    r"possible circular locking", r"inconsistent lock state",
    r"possible recursive locking", r"refcount_t:", r"list_add corruption",
    r"list_del corruption", r"INFO: task .* blocked for more than",
    r"soft lockup", r"hard LOCKUP", r"KASAN:", r"UBSAN:",
    r"sleeping function called from invalid context", r"Kernel panic",
    r"kernel BUG at",
    # Also matched by "BUG:"; named so that a line whose prefix another
    # console write split off still fails the run.
    r"scheduling while atomic", r"leaked lock or atomic",
    # The debug kernel's checkers, and the guest's kmemleak scan
    # (guest-init.sh) of leaks whose trace names a rackpwr module.
    r"possible irq lock inversion", r"suspicious RCU usage",
    r"ODEBUG:", r"rig: kmemleak:",
]))
DEBUG_DIR = os.environ.get("RPW_DEBUG_KERNEL_DIR") or \
    os.path.join(TOP, "build", "debug-kernel")
# A kernel message on the console starts with its printk timestamp; it may
# follow a partial user-space line, so look for it anywhere.
KMSG = re.compile(r"\[\s*\d+\.\d{6}\]\s?(.*)")
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")
RESULT = re.compile(r"^(not )?ok (\d+) (\S+)(?:\s+#\s*(.*))?$")
SUBFAIL = re.compile(r"^#\s+(not ok \d+ .*)$")
START = re.compile(r"^# rig: start (\d+) (\S+)")
PLAN = re.compile(r"^# rig: tests ?(.*)$")
DONE = re.compile(r"^# rig: done")
REQUEST = re.compile(r"^(?:#\s*)?RIG-(HUB|SYNC|KILL): (.*)$")


def default_kver():
    """Newest /lib/modules/*-amd64 with an image in /boot (as mkinitramfs)."""
    if os.environ.get("KVER"):
        return os.environ["KVER"]

    def vkey(v):
        return [(0, int(x), "") if x.isdigit() else (1, 0, x)
                for x in re.split(r"[.-]", v)]
    vers = [os.path.basename(d) for d in glob.glob("/lib/modules/*-amd64")]
    for v in sorted(vers, key=vkey, reverse=True):
        if os.path.exists("/boot/vmlinuz-" + v):
            return v
    return None


def pvh_kernel(image):
    """Uncompressed ELF vmlinux extracted from a bzImage, cached in build/.

    QEMU boots an ELF kernel with a PVH note (CONFIG_PVH) directly: under
    TCG that skips the in-guest decompression, about half of the boot
    time.  Returns the image unchanged if no payload is recognised.
    """
    base = os.path.basename(image)
    if base.startswith("vmlinuz-"):
        base = base[len("vmlinuz-"):]
    out = os.path.join(TOP, "build", "rig", "vmlinux-" + base)
    if os.path.exists(out) and \
            os.path.getmtime(out) >= os.path.getmtime(image):
        return out
    with open(image, "rb") as f:
        data = f.read()
    unpackers = (
        (b"\xfd7zXZ\x00",
         lambda d: lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d)),
        (b"\x1f\x8b\x08",
         lambda d: zlib.decompressobj(wbits=31).decompress(d)),
    )
    for magic, unpack in unpackers:
        i = data.find(magic)
        if i < 0:
            continue
        try:
            elf = unpack(data[i:])
        except (lzma.LZMAError, zlib.error):
            continue
        if elf[:4] == b"\x7fELF":
            os.makedirs(os.path.dirname(out), exist_ok=True)
            tmp = "%s.tmp.%d" % (out, os.getpid())
            with open(tmp, "wb") as f:
                f.write(elf)
            os.replace(tmp, out)
            return out
    return image


class Report:
    """Host TAP output, numbered across all VMs."""

    def __init__(self, out_path):
        self.lock = threading.Lock()
        self.n = 0
        self.failed = 0
        self.out = open(out_path, "w")
        self.emit("TAP version 13")

    def emit(self, line):
        with self.lock:
            print(line, flush=True)
            self.out.write(line + "\n")
            self.out.flush()

    def result(self, ok, name, directive=""):
        with self.lock:
            self.n += 1
            if not ok:
                self.failed += 1
            n = self.n
        self.emit("%sok %d %s%s" % ("" if ok else "not ", n, name,
                                    " # " + directive if directive else ""))

    def finish(self):
        passed = self.n - self.failed
        self.emit("1..%d" % self.n)
        self.emit("vm: %d passed, %d failed" % (passed, self.failed))
        self.out.close()


class Hub:
    """rs485-hub child process and its control socket."""

    def __init__(self, binary, nnodes, sockdir, logpath, baud):
        self.ctl = os.path.join(sockdir, "ctl.sock")
        self.nodes = [os.path.join(sockdir, "n%d.sock" % i)
                      for i in range(nnodes)]
        self.lock = threading.Lock()
        cmd = [binary, "--baud", str(baud), "--ctl", self.ctl]
        for p in self.nodes:
            cmd += ["--node", p]
        self.log = open(logpath, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode(errors="replace")
        self.log.write(line)
        if line.strip() != "hub: ready":
            self.proc.kill()
            raise RuntimeError("hub did not start: %r" % line)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in self.proc.stdout:
            self.log.write(raw.decode(errors="replace"))
            self.log.flush()

    def command(self, text):
        with self.lock:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(5)
                    s.connect(self.ctl)
                    s.sendall(text.encode() + b"\n")
                    buf = b""
                    while not buf.endswith(b"\n"):
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
            except OSError as e:
                return "err hub control socket: %s" % e
        return buf.decode(errors="replace").strip() or "err no answer"

    def stop(self):
        if self.proc.poll() is None:
            self.command("quit")
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class VM:
    """One QEMU guest: console parser, host port, deadlines."""

    def __init__(self, run, index, tests):
        self.run = run
        self.index = index
        self.tests = tests          # names, or ["all"]
        self.name = "vm%d" % index
        self.prefix = self.name + ": " if run.multi else ""
        self.logpath = os.path.join(run.logdir, self.name + ".log")
        self.plan = None if tests == ["all"] else list(tests)
        self.booted = False         # the guest's init printed its plan
        self.results = {}           # test number -> True/False
        self.current = None         # (number, name, start time)
        self.subfail = []           # failed checks of the current test
        self.splats = []
        self.done = False           # guest printed "# rig: done"
        self.ended = False          # qemu exited (or was killed)
        self.killed = None          # why the host killed it
        self.pulled = False         # killed by a RIG-KILL request
        self.conn = None            # ttyS2 connection
        self.deadline = time.monotonic() + run.args.boot_timeout
        self.lock = threading.Lock()

    def start(self):
        a = self.run.args
        hostsock = os.path.join(self.run.sockdir, "host%d.sock" % self.index)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(hostsock)
        self.listener.listen(1)
        self.listener.settimeout(0.2)
        # no_timer_check: on a loaded host the IO-APIC timer check of an
        # early TCG boot can miss its ticks and panic ("IO-APIC + timer
        # doesn't work!"); QEMU's timer is known to be wired.
        append = ["console=ttyS0", "loglevel=5", "printk.time=1",
                  "panic=-1", "no_timer_check",
                  "rig.tests=" + ",".join(self.tests),
                  "rig.timeout=%d" % a.timeout,
                  "rig.node=%d" % self.index,
                  "rig.nnodes=%d" % len(self.run.vms)]
        # The host's TSC rate: a guest that calibrates its own while
        # other guests boot can get it wrong ("tsc: Unable to calibrate
        # against PIT"), and its clock then runs at the wrong rate.
        if self.run.tsc_khz:
            append.append("tsc_early_khz=%d" % self.run.tsc_khz)
        role = self.run.roles.get(self.index)
        if role:
            append.append("rig.role=" + role)
        if a.bus_uarts > 1:
            append.append("8250.nr_uarts=8")	# Debian registers 4
        if a.append:
            append.append(a.append)
        k = a.bus_uarts
        bus = ("unix:" + self.run.hub.nodes[self.index * k]
               if self.run.hub else "null")
        # More bus ports for this VM: PCI UARTs (the ISA ones share IRQs).
        extra = []
        for j in range(1, k if self.run.hub else 1):
            cid = "bus%d" % j
            extra += ["-chardev", "socket,id=%s,path=%s" %
                      (cid, self.run.hub.nodes[self.index * k + j]),
                      "-device", "pci-serial,chardev=" + cid]
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(a.mem),
               "-smp", "1", "-nographic", "-no-reboot", "-nodefaults",
               "-no-user-config", "-kernel", a.boot_kernel,
               "-initrd", a.initrd,
               "-append", " ".join(append),
               "-serial", "mon:stdio", "-serial", bus,
               "-serial", "unix:" + hostsock] + extra
        self.log = open(self.logpath, "w")
        self.log.write("# " + " ".join(cmd) + "\n")
        self.log.flush()
        self.t_start = time.monotonic()
        self.t_boot = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.conn is None and self.proc.poll() is None:
            try:
                self.conn, _ = self.listener.accept()
            except socket.timeout:
                continue

    def reply(self, text):
        try:
            if self.conn:
                self.conn.sendall(text.encode() + b"\n")
        except OSError:
            pass

    def _reader(self):
        self._accept()
        for raw in self.proc.stdout:
            line = ANSI.sub("", raw.decode(errors="replace")).rstrip("\r\n")
            line = line.replace("\r", "")
            self.log.write(line + "\n")
            self.log.flush()
            if self.run.args.verbose:
                print("# %s| %s" % (self.name, line), flush=True)
            self._parse(line)
        self.proc.wait()
        with self.lock:
            self.ended = True
            self.t_end = time.monotonic() - self.t_start
        self.log.close()
        self.run.vm_ended(self)

    def _parse(self, line):
        now = time.monotonic()
        for msg in KMSG.findall(line):
            if SPLATS.search(msg):
                self.splats.append(msg)
                if len(self.splats) <= 20:
                    self.run.report.emit("# %sSPLAT: %s" % (self.prefix,
                                                            msg))
        m = REQUEST.match(line)
        if m:
            self.run.request(self, m.group(1), m.group(2).strip())
            return
        m = PLAN.match(line)
        if m:
            self.plan = m.group(1).split()
            self.booted = True
            return
        m = START.match(line)
        if m:
            if self.t_boot is None:
                self.t_boot = now - self.t_start
            with self.lock:
                self.current = (int(m.group(1)), m.group(2), now)
                self.subfail = []
                t = self.run.args.timeout
                self.deadline = now + t + HOST_GRACE if t else None
            return
        m = RESULT.match(line)
        if m and self.plan is not None:
            num, ok = int(m.group(2)), not m.group(1)
            if num in self.results:
                return
            self.results[num] = ok
            with self.lock:
                self.current = None
                self.deadline = now + self.run.args.boot_timeout
            self.run.report.result(ok, self.prefix + m.group(3),
                                   m.group(4) or "")
            # Name the failed checks in the summary, so a CI log that
            # keeps only this output still says what went wrong.
            for sub in [] if ok else self.subfail[:10]:
                self.run.report.emit("#   %s%s" % (self.prefix, sub))
            return
        m = SUBFAIL.match(line)
        if m and self.current:
            self.subfail.append(m.group(1))
            return
        if DONE.match(line):
            with self.lock:
                self.done = True
                self.deadline = now + self.run.args.boot_timeout
            self.run.check_barriers()

    def check_deadline(self, now):
        with self.lock:
            if self.ended or self.killed or self.deadline is None \
                    or now < self.deadline:
                return
            if self.current:
                self.killed = "test %s ran %.0fs without a result" % (
                    self.current[1], now - self.current[2])
            elif self.done:
                self.killed = "no power-off within %ds" % \
                    self.run.args.boot_timeout
            else:
                self.killed = "no progress within %ds" % \
                    self.run.args.boot_timeout
        self.proc.kill()

    def _report_pulled(self, i, name):
        """Unfinished test @i of a VM killed on request.

        The checks it printed before the kill are results like any other:
        a failed one fails the test.  Otherwise the test is skipped: it
        could not finish.
        """
        running = self.current and self.current[0] == i
        if running and self.subfail:
            self.run.report.result(
                False, self.prefix + name,
                "VM killed on request after %d failed check(s)" %
                len(self.subfail))
            for sub in self.subfail[:10]:
                self.run.report.emit("#   %s%s" % (self.prefix, sub))
        else:
            self.run.report.result(True, self.prefix + name,
                                   "SKIP VM killed on request")

    def finish(self):
        """Report what the guest could not: unrun tests, kernel log."""
        why = self.killed or ("VM exited" if not self.done else None)
        self.run.report.emit("# %s: first test after %s, ended after %.1fs" % (
            self.name, "%.1fs" % self.t_boot if self.t_boot else "-",
            self.t_end))
        if not self.booted:
            self.run.report.result(
                False, self.prefix + "boot",
                ("TIMEOUT (host) " if self.killed else "") +
                (why or "no test plan from the guest"))
        elif not self.plan:
            self.run.report.result(False, self.prefix + "tests",
                                   "no tests to run in the initramfs")
        for i, name in enumerate(self.plan or [], 1):
            if i in self.results:
                continue
            if self.pulled:
                self._report_pulled(i, name)
                continue
            if self.current and self.current[0] == i:
                d = ("TIMEOUT (host) " + self.killed if self.killed
                     else "VM died during the test")
            else:
                d = "not run: " + (why or "no result")
            self.run.report.result(False, self.prefix + name, d)
        if self.splats:
            self.run.report.result(False, self.prefix + "kernel-log-clean",
                                   "%d splat line(s), see %s" %
                                   (len(self.splats), self.logpath))
        else:
            self.run.report.result(True, self.prefix + "kernel-log-clean")


def host_tsc_khz():
    """The host's TSC rate in kHz (scripts/rig/tsc-khz), or None.

    Under TCG a guest's TSC is the host's.  None (the guest calibrates as
    before) when the tool is not built or could not measure a steady rate.
    """
    tool = os.path.join(RIG, "tsc-khz")
    if not os.access(tool, os.X_OK):
        return None
    for _ in range(3):
        r = subprocess.run([tool], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0 and r.stdout.strip().isdigit():
            return int(r.stdout)
    return None


class Run:
    def __init__(self, args, node_tests):
        self.args = args
        self.multi = len(node_tests) > 1
        self.logdir = args.logdir
        self.sockdir = tempfile.mkdtemp(prefix="rig-")
        self.report = Report(os.path.join(self.logdir, "result.tap"))
        self.roles = args.roles
        self.hub = None
        self.barriers = {}          # name -> set of VM indexes waiting
        self.lock = threading.Lock()
        self.tsc_khz = host_tsc_khz()
        self.vms = [VM(self, i, t) for i, t in enumerate(node_tests)]

    def request(self, vm, kind, text):
        if kind == "KILL":
            try:
                victim = self.vms[int(text)]
            except (ValueError, IndexError):
                vm.reply("err no VM %r" % text)
                return
            vm.log.write("# host: RIG-KILL: %s\n" % text)
            vm.reply("ok")
            victim.pulled = True
            victim.proc.kill()
            self.check_barriers()
            return
        if kind == "HUB":
            ans = self.hub.command(text) if self.hub else \
                "err no hub in this run (use --nodes N or --hub)"
            vm.log.write("# host: RIG-HUB: %s -> %s\n" % (text, ans))
            vm.reply(ans)
            return
        with self.lock:
            self.barriers.setdefault(text, set()).add(vm.index)
        self.check_barriers()

    def check_barriers(self):
        """Release barriers every VM reached; fail those a VM left."""
        answers = []
        with self.lock:
            live = [v for v in self.vms if not v.pulled]
            for name, waiting in list(self.barriers.items()):
                gone = [v.index for v in live
                        if v.index not in waiting and (v.ended or v.done)]
                if gone:
                    ans = "err node(s) %s ended before sync %s" % (
                        ",".join(map(str, gone)), name)
                elif all(v.index in waiting for v in live):
                    ans = "ok"
                else:
                    continue
                del self.barriers[name]
                answers += [(self.vms[i], ans) for i in waiting]
        for vm, ans in answers:
            vm.reply(ans)

    def vm_ended(self, vm):
        self.check_barriers()

    def scenario(self):
        a = self.args
        env = dict(os.environ, RIG_LOGDIR=self.logdir,
                   RIG_NODES=str(len(self.vms)),
                   RIG_HUB_CTL=self.hub.ctl if self.hub else "",
                   RIG_HUBCTL=os.path.join(RIG, "hubctl"))
        log = open(os.path.join(self.logdir, "scenario.log"), "w")
        return subprocess.Popen(["sh", a.scenario], env=env, stdout=log,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=TOP)

    def go(self):
        a = self.args
        try:
            if a.hub_bin:
                self.hub = Hub(a.hub_bin, len(self.vms) * a.bus_uarts,
                               self.sockdir,
                               os.path.join(self.logdir, "hub.log"), a.baud)
            t0 = time.monotonic()
            for vm in self.vms:
                vm.start()
            scen = self.scenario() if a.scenario else None
            while not all(vm.ended for vm in self.vms):
                now = time.monotonic()
                for vm in self.vms:
                    vm.check_deadline(now)
                time.sleep(0.2)
            for vm in self.vms:
                vm.thread.join()
            for vm in self.vms:
                vm.finish()
            if scen:
                try:
                    rc = scen.wait(a.boot_timeout)
                except subprocess.TimeoutExpired:
                    scen.kill()
                    rc = "TIMEOUT"
                self.report.result(rc == 0, "scenario " + a.scenario,
                                   "" if rc == 0 else "exit=%s" % rc)
            if self.hub:
                self.report.emit("# hub: " + self.hub.command("stats"))
            self.report.emit("# wall time %.1fs, logs in %s" %
                             (time.monotonic() - t0, self.logdir))
        finally:
            for vm in self.vms:
                if getattr(vm, "proc", None) and vm.proc.poll() is None:
                    vm.proc.kill()
            if self.hub:
                self.hub.stop()
            shutil.rmtree(self.sockdir, ignore_errors=True)
        failed = self.report.failed
        self.report.finish()
        return 1 if failed else 0


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run rackpwr guest tests in QEMU VMs (TAP output).",
        epilog="See Documentation/dev-tools/rackpwr-testing.rst.")
    p.add_argument("--tests", default="all",
                   help="comma-separated guest tests, or 'all' (default)")
    p.add_argument("--test", help="run this one test")
    p.add_argument("--nodes", type=int, default=0,
                   help="number of VMs joined by the RS-485 hub")
    p.add_argument("--node-tests", nargs="+", metavar="N:TESTS",
                   help="per-node test lists, e.g. 0:a,b 1:c (nodes not "
                   "named run --tests)")
    p.add_argument("--role", nargs="+", default=[], metavar="N:ROLE",
                   help="rig.role=ROLE for node N (RIG_ROLE in tests)")
    p.add_argument("--hub", action="store_true",
                   help="connect ttyS1 to the hub even with one VM")
    p.add_argument("--bus-uarts", type=int, default=1, metavar="K",
                   help="hub-connected UARTs per VM: ttyS1, then PCI "
                   "UARTs ttyS4.. (hub node of VM i, UART j: i*K+j)")
    p.add_argument("--hub-bin", default=os.path.join(RIG, "rs485-hub"),
                   help="hub program (default: scripts/rig/rs485-hub, "
                   "built with make -C scripts/rig if missing)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--timeout", type=int, default=60,
                   help="per-test timeout in seconds (0: none)")
    p.add_argument("--clients", action="store_true",
                   help="add the standard clients (python3, ynl, pyroute2, "
                   "genl, node_exporter) to the initramfs")
    p.add_argument("--debug-kernel", action="store_true",
                   default=os.environ.get("RPW_KERNEL") == "debug",
                   help="boot the cached debug kernel (RPW_KERNEL=debug)")
    p.add_argument("--boot-timeout", type=int, default=None,
                   help="limit for boot, between tests and power-off "
                   "(default 90 s, 360 s with --debug-kernel)")
    p.add_argument("--kernel", help="kernel image (/boot/vmlinuz-$KVER)")
    p.add_argument("--no-pvh", action="store_true",
                   help="boot the bzImage as is, not its extracted vmlinux")
    p.add_argument("--initrd", help="use this initramfs instead of "
                   "building build/rig/initramfs.cpio.gz")
    p.add_argument("--append", default="", help="extra kernel arguments")
    p.add_argument("--mem", type=int, default=512, help="MiB per VM")
    p.add_argument("--logdir", default=os.path.join(TOP, "build", "vmlogs"))
    p.add_argument("--scenario", help="host-side sh script run during the "
                   "VMs; its exit status is one more test")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="echo every console line")
    a = p.parse_args(argv)

    if a.test:
        a.tests = a.test
    default = [t for t in a.tests.split(",") if t]
    per = {}
    for spec in a.node_tests or []:
        n, _, t = spec.partition(":")
        if not n.isdigit() or not t:
            p.error("bad --node-tests entry %r (want N:test[,test])" % spec)
        per[int(n)] = [x for x in t.split(",") if x]
    a.roles = {}
    for spec in a.role:
        n, _, r = spec.partition(":")
        if not n.isdigit() or not r or " " in r:
            p.error("bad --role entry %r (want N:ROLE)" % spec)
        a.roles[int(n)] = r
    nodes = a.nodes or (max(per) + 1 if per else 1)
    if per and max(per) >= nodes:
        p.error("--node-tests names node %d of %d" % (max(per), nodes))
    node_tests = [per.get(i, default) for i in range(nodes)]

    if a.debug_kernel:
        try:
            with open(os.path.join(DEBUG_DIR, "krelease")) as f:
                krel = f.read().strip()
        except OSError:
            krel = None
        if not krel or not os.path.exists(os.path.join(DEBUG_DIR, ".done")):
            p.error("no debug kernel in %s (scripts/debug-kernel.sh)" %
                    DEBUG_DIR)
        a.kernel = a.kernel or os.path.join(DEBUG_DIR, "bzImage")
        a.debug_krel = krel
    # KASAN, lockdep and kmemleak under TCG boot several times slower.
    if a.boot_timeout is None:
        a.boot_timeout = 360 if a.debug_kernel else 90
    kver = default_kver()
    a.kernel = a.kernel or (kver and "/boot/vmlinuz-" + kver)
    if not a.kernel or not os.path.exists(a.kernel):
        p.error("no kernel image (--kernel or KVER)")
    if not a.hub and nodes < 2 and a.bus_uarts < 2:
        a.hub_bin = None
    else:
        if os.path.dirname(os.path.abspath(a.hub_bin)) == RIG and \
                os.path.exists(os.path.join(RIG, "Makefile")):
            # Our own hub: keep the binary up to date with its source.
            subprocess.run(["make", "-s", "-C", RIG], stdout=sys.stderr)
        if not os.access(a.hub_bin, os.X_OK):
            p.error("hub program %s missing" % a.hub_bin)
    return a, node_tests


def main(argv):
    a, node_tests = parse_args(argv)
    os.makedirs(a.logdir, exist_ok=True)
    for f in glob.glob(os.path.join(a.logdir, "*.log")):
        os.unlink(f)
    if not a.initrd:
        a.initrd = os.path.join(TOP, "build", "rig", "initramfs%s%s.cpio.gz" %
                                ("-debug" if a.debug_kernel else "",
                                 "-clients" if a.clients else ""))
        env = dict(os.environ)
        if a.clients:
            env["RIG_CLIENTS"] = "1"
        base = os.path.basename(a.kernel)
        if base.startswith("vmlinuz-"):
            env["KVER"] = base[len("vmlinuz-"):]
        if a.debug_kernel:
            env["KVER"] = a.debug_krel
            # rackpwr.ko for the debug kernel: its vermagic differs.
            r = subprocess.run(["sh", os.path.join(TOP, "scripts",
                                                   "debug-kernel.sh"),
                                "modules"], stdout=sys.stderr)
            if r.returncode:
                sys.stderr.write("vmrun: debug-kernel.sh modules failed\n")
                return 2
            env["RIG_MODBASE"] = DEBUG_DIR
            env["RIG_KO_DIRS"] = os.path.join(DEBUG_DIR, "ko")
        r = subprocess.run(["sh", os.path.join(RIG, "mkinitramfs.sh"),
                            a.initrd], env=env, stdout=sys.stderr)
        if r.returncode:
            sys.stderr.write("vmrun: mkinitramfs failed\n")
            return 2
    # The debug kernel's ELF (KASAN) resets the guest at once when QEMU
    # boots it through its PVH entry (SeaBIOS, then nothing, even with
    # earlyprintk): it boots from the bzImage, decompression and all.
    a.boot_kernel = a.kernel if a.no_pvh or a.debug_kernel else \
        pvh_kernel(a.kernel)
    try:
        return Run(a, node_tests).go()
    except RuntimeError as e:
        sys.stderr.write("vmrun: %s\n" % e)
        return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
