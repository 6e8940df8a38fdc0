#!/usr/bin/env python3
"""The GIL experiments on real CPython: the reference gil-lab's emulation is compared with.

Standard library only; Python 3.8 or later. Two commands:

    python3 reference/gil_experiment.py [options]          # the sweep (gil-lab sweep)
    python3 reference/gil_experiment.py scale [options]    # the scaling test (gil-lab scale)

Both print the same JSON as gil-lab (``--format json``) or a table (``--format table``).

The sweep
=========

The seed's experiment, and the victims that are time-sensitive. A *victim* runs in a thread, in
a process or in a subinterpreter, while ``--loads`` load threads of the parent hold the GIL (the
``+load`` scenarios):

    python3 reference/gil_experiment.py --delays 0,1,2 --load bignum --format json
    python3 reference/gil_experiment.py --victim latency --load short --loads 1,2 --delays 2

What one run does, for one scenario, one delay and one number of loads:

* The main thread is the controller. It starts the victim (a ``threading.Thread``, a
  ``multiprocessing.Process`` or a subinterpreter) and, for the ``+load`` scenarios, N load
  threads of the parent, side by side. The latency and server victims also get a *client*: a
  ``multiprocessing.Process`` of its own, so it is under no GIL of this interpreter, talking to the
  victim over a real loopback socket. Every worker and client signals ``ready`` and then waits on
  ``go``, so all counts are measured from the same moment.
* The controller sleeps ``delay`` (one ``time.sleep``, which releases the GIL), then clears
  ``running``. To do so it must take the GIL back, and a load thread in the middle of an operation
  holds it until that operation ends: the stop is late. ``stop_lag_s`` is the time from the
  planned wake-up to ``running.value = False`` having been executed.
* Loads (``--load``): ``bignum`` is the seed's ``z = 10; while running.value: z = z * z``,
  restarting from 10 once ``z`` has more than ``--bignum-cap-bits`` bits. ``short`` repeats one
  operation of ``--op-us`` microseconds (``sum(range(n))``, see ``short_op_size``). Both hold the
  GIL for a whole operation. ``release`` is C code that drops it: ``hashlib.sha256`` of
  ``--release-op-bytes`` (8 MiB). Each load thread times its first 64 operations (``op_s``).
* Victims (``--victim``):

  - ``incrementer``: the seed's ``x = 0; while running.value: counter.value = x; x += 1``, always
    wanting the GIL. ``count`` is how far it got.
  - ``io``: a loop of one blocking call that releases the GIL (``time.sleep`` of ``--io-us``,
    100 us) and a count. ``count`` is operations.
  - ``latency`` (the latency test of CPython's ``Tools/ccbench``, written anew for this project):
    the client sends a UDP datagram to 127.0.0.1 every ``--period-ms`` (10 ms), carrying its send
    time. The victim waits for it in a blocking ``recv`` (the GIL released); ``recv`` returns in
    Python code only once the victim holds the GIL again, and the victim stamps that moment. The
    latency is that stamp minus the client's, the time from the request to the moment a Python
    thread could first act on it. Both stamps are ``time.monotonic()``, which on Linux is
    ``CLOCK_MONOTONIC``, one clock for every process of the machine (``time.perf_counter`` is
    not guaranteed to be; on a system whose monotonic clock is not system-wide the script uses
    ``time.time()``; ``config.latency_clock`` says which). ``count`` is requests answered.
  - ``server`` (the echo-server experiment of "Python behind the scenes #13: the GIL and its
    effects on Python multithreading"): the client connects over loopback TCP, sends a 16-byte
    request, waits for the answer, sends the next. The victim loops blocking ``recv`` /
    blocking ``sendall``, each dropping the GIL, as a socket handler does. ``count`` is requests
    answered; ``rate_per_s`` is requests per second.

* Scenarios (``--scenarios``): ``thread``, ``process``, ``interpreter`` alone, and the same with
  ``+load``. In ``process`` the victim is a child process; in ``interpreter`` it runs in a
  subinterpreter of this process with a GIL of its own (PEP 684, CPython 3.12 and later), in a
  thread of its own. The loads and the controller always stay in the main interpreter, so every
  scenario shows the late stop. The default is the seed's four: thread, process, thread+load,
  process+load.
* ``--intervals`` repeats the sweep at each switch interval (``sys.setswitchinterval``, set in the
  parent, in a child process and in a subinterpreter); ``--loads 1,2,4`` at each number of loads.
  Order: for each interval, for each number of loads, for each delay, each scenario.

Subinterpreters. ``--interpreter-gil own`` (the default) uses ``concurrent.interpreters``
(CPython 3.14), ``_interpreters.create("isolated")`` (3.13) or
``_xxsubinterpreters.create(isolated=True)`` (3.12). With an older Python the interpreter
scenarios (and ``scale --modes interpreter``) are skipped: the script says so once on standard
error, records them in ``config.skipped``, runs the rest and exits 0. ``--interpreter-gil
shared`` runs the same code in a legacy subinterpreter, which shares this interpreter's GIL
(``_xxsubinterpreters`` from CPython 3.8, ``_interpreters.create("legacy")`` from 3.13). It is a
test of the mechanics and a warning, not an answer: from CPython 3.9 to 3.12 a legacy
subinterpreter waiting for the shared GIL never gets it from a thread of the main interpreter
(the request to drop it is kept per interpreter), so beside a load it starves; from 3.9 to 3.11
the main interpreter cannot get it back either, so code in the subinterpreter that never blocks
(the incrementer, a load that holds the GIL) would keep the controller from ever stopping it,
and those set-ups are refused there with exit status 2. Tested on this machine with CPython
3.8.18, 3.11.7, 3.12.1 and 3.13.0 (own GIL with 3.12 and 3.13); the 3.14 path
(``concurrent.interpreters``) is untested. A subinterpreter shares no
Python object with the main interpreter: the victim and the controller share the flag, the counter
and the start signal through a small file mapped into memory by both (``MappedBlock``), the
victim's code is this file's worker section run as text, and the latency samples come back in a
file. A multiprocessing lock cannot cross into another interpreter, so the interpreter scenarios
need ``--values raw``.

``--values``. The shared counter and flag are ``multiprocessing.Value`` objects, for threads and
processes alike, as in the seed. ``synchronized`` (the default, and the seed's choice) gives each
its own lock: every ``.value`` read or write acquires and releases a process-shared ``RLock``.
``raw`` uses ``lock=False``: plain shared memory. The locks make the incrementer four to five
times slower, and ``running``'s lock is shared with the load threads (which read the flag before
each operation) and, in the ``process`` scenarios, across the process boundary.

The JSON (``--format json``), as ``gil-lab sweep --format json``:

* ``config``: ``load``, ``loads`` (the list of load counts, e.g. ``[1]``), ``switch_interval_ms``
  (null with several intervals), ``switch_intervals_ms``, ``delays``, ``scenarios`` (those that
  ran), ``skipped`` (``[{"scenario", "reason"}]``), ``victim``, ``op_us`` (the short load's
  operation), ``io_us`` (the io victim's blocking call), ``period_ms`` (the latency client's
  period; null for the other victims), ``latency_clock``, ``interpreter_gil``, ``interpreters``
  (the API used, or null), ``values``, ``start_method``, ``bignum_cap_bits``, ``short_op_items``,
  ``release_op_bytes``, ``release_op``, ``python``. The old names ``short_op_us`` and
  ``io_op_us`` are kept, with the same values.
* ``results[]``: ``scenario``, ``delay_s``, ``switch_interval_ms``, ``victim``, ``loads`` (the N of
  this row; load threads run only in the ``+load`` scenarios), ``count``, ``elapsed_s`` (from
  ``go`` to the victim's exit, timed by the victim), ``stop_lag_s``, ``rate_per_s``
  (``count / elapsed_s``), ``latency_ms`` (``{"mean", "p50", "p90", "p99", "max", "n"}`` in
  milliseconds for the latency victim, the percentiles by nearest rank, all null but ``n`` when
  no request came; null for the other victims), ``switches`` (null: CPython does not expose its
  lock's statistics), ``workers`` (``[]``), ``load`` (null without load; else ``ops`` and
  ``restarts`` summed over the load threads and the first thread's ``op_s``), ``load_threads``
  (one ``{"ops", "restarts", "op_s"}`` per load thread).

The scaling test (``scale``)
============================

CPython's ``Tools/ccbench`` throughput test, written anew: N workers all run the load's
operations as fast as they can for ``--seconds``; the total throughput is compared with one
worker of the same mode.

    python3 reference/gil_experiment.py scale --workers 1,2,4 --modes thread,process \\
        --load short --seconds 2 --format json

* ``--modes``: ``thread`` (threads of this interpreter, under one GIL), ``process``
  (``multiprocessing.Process``), ``interpreter`` (subinterpreters with their own GIL, as above;
  skipped before CPython 3.12), ``free-thread`` (threads of a free-threaded build: only where
  ``sys._is_gil_enabled()`` is false, else skipped with a message).
* ``--workers``: worker counts, 1 to 32; a run of 1 worker is always made (added if missing),
  since it is what ``speedup`` compares with.
* Every worker, whatever the mode, reads the same ``running`` flag and writes its operation count
  and its end time (``time.monotonic()``) into a ``MappedBlock``. ``elapsed_s`` is from the start
  signal to the last worker's end; ``ops_per_s`` is ``ops / elapsed_s``.
* The JSON: ``config`` (``command`` = ``"scale"``, ``load``, ``workers``, ``modes`` (those that
  ran), ``skipped`` (``[{"mode", "reason"}]``), ``seconds``, ``op_us``, ``short_op_items``,
  ``release_op_bytes``, ``release_op``, ``bignum_cap_bits``, ``switch_interval_ms``,
  ``start_method``, ``cpu_count``, ``interpreter_gil``, ``interpreters``, ``python``) and
  ``results[]`` (``mode``, ``workers``, ``ops``, ``elapsed_s``, ``ops_per_s``, ``speedup`` = this
  ``ops_per_s`` over the 1-worker ``ops_per_s`` of the same mode, ``worker_ops``).

Errors and stopping
===================

Every bad argument gets one sentence and exit status 2 before anything runs; a failed run exits
with 1. Ctrl-C stops the run and its children, clients included, and exits with 130 (SIGTERM
likewise, with 143); child processes also die with the parent (Linux ``PR_SET_PDEATHSIG``). Like the stop itself,
Ctrl-C can be late by up to one multiplication: the main thread handles the signal only once it
holds the GIL again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import platform
import shutil
import signal
import sys
import tempfile
import threading
from time import perf_counter

# ==== worker code: begin ====
# Everything from here to "worker code: end" runs in the main interpreter and, copied as text, in
# each subinterpreter of the interpreter scenarios and of `scale --modes interpreter`. It is
# self-contained (it uses nothing defined outside it) and imports only modules that a
# subinterpreter with a GIL of its own can load: no multiprocessing, no ctypes.
import mmap
import os
import socket
import struct
import time

MAX_TIMED_OPS = 64  # like gil-lab's LoadReport::MAX_TIMED_OPS
ACCEPT_TIMEOUT_S = 30.0  # how long the server victim waits for its client to connect
GO_POLL_S = 0.0002  # how often a worker of a MappedBlock looks at the start signal
MESSAGE = b"gil-lab request!"  # the server victim's request and answer: 16 bytes


class LoadReport:
    """What one load thread did: as gil-lab's ``LoadReport`` (``ops``, ``restarts``, ``op_s``)."""

    def __init__(self):
        self.ops = 0
        self.restarts = 0
        self.op_s = []

    def op_done(self, seconds):
        self.ops += 1
        if len(self.op_s) < MAX_TIMED_OPS:
            self.op_s.append(seconds)

    def to_json(self):
        return {"ops": self.ops, "restarts": self.restarts, "op_s": self.op_s}


# --- The victims. `shared` has `running`, `counter`, `elapsed` (each with `.value`), `ready`
# (`.release()`) and `go` (`.wait()`): multiprocessing objects, or a MappedBlock's participant.


def incrementer(shared):
    """The seed's incrementer, between the start barrier and the report of its own elapsed time."""
    running, counter = shared.running, shared.counter
    shared.ready.release()
    shared.go.wait()
    started = time.perf_counter()
    x = 0
    while running.value:
        counter.value = x
        x += 1
    shared.elapsed.value = time.perf_counter() - started


def io_victim(shared, io_s):
    """A thread that mostly waits: one short blocking call per operation, then a count.

    ``time.sleep`` stands for any blocking system call (a socket read, a disk write): CPython
    drops the GIL around it, and must take the GIL back before the next bytecode. Beside a thread
    that holds the GIL, every wake-up waits for it: up to one switch interval, after which the
    holder is asked to drop (the convoy effect), or until a long operation in C ends.
    """
    running, counter = shared.running, shared.counter
    shared.ready.release()
    shared.go.wait()
    started = time.perf_counter()
    x = 0
    while running.value:
        time.sleep(io_s)
        x += 1
        counter.value = x
    shared.elapsed.value = time.perf_counter() - started


def latency_victim(shared, sock, clock_name):
    """ccbench's latency test: how late a thread that waits in ``recv`` acts on a request.

    ``sock.recv`` blocks with the GIL released; when a datagram arrives the OS wakes the thread,
    which must take the GIL back before ``recv`` can return into Python code. The stamp taken
    right after is the first moment the request could be acted on. An empty datagram is the
    controller's wake-up at the end of a run, not a request.
    """
    clock = getattr(time, clock_name)
    sock.setblocking(True)  # no timeout: one blocking recv, one GIL hand-back per request
    running, counter = shared.running, shared.counter
    samples = []
    shared.ready.release()
    shared.go.wait()
    started = time.perf_counter()
    while running.value:
        data = sock.recv(64)
        arrived = clock()
        if data:
            samples.append(arrived - float(data))
            counter.value = len(samples)
    shared.elapsed.value = time.perf_counter() - started
    return {"latency_s": samples}


def server_victim(shared, listener):
    """The echo-server experiment: blocking recv, blocking sendall, one request at a time.

    It accepts its one client before signalling ready. It stops when the flag is cleared (the
    client sends its next request right after each answer, so the loop comes round at once) or
    when the client goes away.
    """
    listener.settimeout(ACCEPT_TIMEOUT_S)
    conn, _ = listener.accept()
    with conn:
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        running, counter = shared.running, shared.counter
        shared.ready.release()
        shared.go.wait()
        started = time.perf_counter()
        answered = 0
        while running.value:
            try:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)
            except (ConnectionResetError, BrokenPipeError):
                break
            answered += 1
            counter.value = answered
        shared.elapsed.value = time.perf_counter() - started


def run_victim(shared, kind, params, sock=None):
    """Runs the victim chosen by ``--victim``; returns what it measured beyond its count."""
    if kind == "io":
        io_victim(shared, params["io_s"])
    elif kind == "latency":
        return latency_victim(shared, sock, params["clock"])
    elif kind == "server":
        server_victim(shared, sock)
    else:
        incrementer(shared)
    return None


# --- The loads: each holds the GIL for one whole operation, or (release) drops it inside.


def bignum_load(shared, report, cap_bits):
    """The seed's load: ``z = z * z``, one multiplication per operation, never interrupted.

    Step k squares ``10 ** (2 ** k)``, about 3.3 * 2**k bits; CPython multiplies numbers this
    large with Karatsuba, so each step takes about three times as long as the one before.
    """
    running = shared.running
    shared.ready.release()
    shared.go.wait()
    z = 10
    while running.value:
        started = time.perf_counter()
        z = z * z
        report.op_done(time.perf_counter() - started)
        if z.bit_length() > cap_bits:
            z = 10
            report.restarts += 1


def short_load(shared, report, items):
    """Operations of a fixed length: one ``sum(range(items))`` each (see ``short_op_size``)."""
    running = shared.running
    shared.ready.release()
    shared.go.wait()
    while running.value:
        started = time.perf_counter()
        sum(range(items))
        report.op_done(time.perf_counter() - started)


def release_load(shared, report, data):
    """C code that drops the GIL: one ``hashlib.sha256(data).digest()`` per operation.

    For data of 2048 bytes or more, hashlib hashes with the GIL released
    (``Py_BEGIN_ALLOW_THREADS`` around the hash itself), so other threads run while it computes.
    It still needs the GIL to start and to return. SHA-256 costs the same whatever the bytes are,
    so ``data`` is zeros.
    """
    import hashlib

    running = shared.running
    shared.ready.release()
    shared.go.wait()
    while running.value:
        started = time.perf_counter()
        hashlib.sha256(data).digest()
        report.op_done(time.perf_counter() - started)


def run_load(shared, report, kind, arg):
    """Runs the load chosen by ``--load``; ``arg`` is its cap, its items or its data."""
    if kind == "bignum":
        bignum_load(shared, report, arg)
    elif kind == "release":
        release_load(shared, report, arg)
    else:
        short_load(shared, report, arg)


# --- Shared memory that any interpreter and any process can map: the MappedBlock.


class MappedValue:
    """One number in a MappedBlock, read and written as ``.value`` like a multiprocessing.Value."""

    def __init__(self, mm, offset, code):
        self._mm, self._offset, self._struct = mm, offset, struct.Struct(code)

    @property
    def value(self):
        return self._struct.unpack_from(self._mm, self._offset)[0]

    @value.setter
    def value(self, value):
        self._struct.pack_into(self._mm, self._offset, value)


class MappedSignal:
    """One byte of a MappedBlock used as a one-way signal: ``release``/``set``, then ``wait``."""

    def __init__(self, mm, offset):
        self._mm, self._offset = mm, offset

    def set(self):
        self._mm[self._offset] = 1

    release = set

    def is_set(self):
        return self._mm[self._offset] != 0

    def wait(self):
        while self._mm[self._offset] == 0:
            time.sleep(GO_POLL_S)


class Participant:
    """What one worker of a MappedBlock sees: the ``shared`` of the victims and loads above."""

    def __init__(self, block, index):
        self.running, self.counter, self.elapsed = block.running, block.counter, block.elapsed
        self.go = block.go
        self.ready = MappedSignal(block.mm, block.READY + index)


class MappedBlock:
    """A page of a file mapped into memory (MAP_SHARED) by every interpreter and process that
    opens it: the flag, the counter, the start signal, one ready byte and one result slot per
    worker. Reads and writes are of aligned 1- and 8-byte values."""

    SIZE = 4096
    RUNNING, GO, COUNTER, ELAPSED, READY, SLOTS = 0, 1, 8, 16, 64, 128
    MAX_WORKERS = 64  # READY has 64 bytes; SLOTS, 16 bytes each, end at 1,152

    def __init__(self, path):
        self._file = open(path, "r+b")
        self.mm = mmap.mmap(self._file.fileno(), self.SIZE)
        self.running = MappedValue(self.mm, self.RUNNING, "b")
        self.go = MappedSignal(self.mm, self.GO)
        self.counter = MappedValue(self.mm, self.COUNTER, "q")
        self.elapsed = MappedValue(self.mm, self.ELAPSED, "d")

    def participant(self, index):
        return Participant(self, index)

    def ready_count(self, workers):
        return sum(1 for i in range(workers) if self.mm[self.READY + i])

    def slot(self, index):
        """Worker ``index``'s operation count and end time (``time.monotonic()``)."""
        at = self.SLOTS + 16 * index
        return MappedValue(self.mm, at, "q"), MappedValue(self.mm, at + 8, "d")

    def close(self):
        self.mm.close()
        self._file.close()


def scale_worker(block, index, kind, arg):
    """One worker of ``scale``: the load's operations as fast as it can, until the flag drops."""
    report = LoadReport()
    if kind == "release":
        arg = bytes(arg)
    run_load(block.participant(index), report, kind, arg)
    ops, end = block.slot(index)
    ops.value = report.ops
    end.value = time.monotonic()


def interpreter_victim_main(args):
    """The victim's body in a subinterpreter (the interpreter scenarios)."""
    import sys

    sys.setswitchinterval(args["interval_s"])
    block = MappedBlock(args["block"])
    sock = None
    try:
        if args["fd"] is not None:
            sock = socket.socket(args["family"], args["type"], fileno=os.dup(args["fd"]))
        result = run_victim(block.participant(0), args["victim"], args["params"], sock)
        if result is not None:
            with open(args["result"], "w") as out:
                out.write("\n".join(repr(s) for s in result["latency_s"]))
    finally:
        if sock is not None:
            sock.close()
        block.close()


def interpreter_load_main(args):
    """One worker's body in a subinterpreter (``scale --modes interpreter``)."""
    import sys

    sys.setswitchinterval(args["interval_s"])
    block = MappedBlock(args["block"])
    try:
        scale_worker(block, args["index"], args["load"], args["arg"])
    finally:
        block.close()


# ==== worker code: end ====

SCENARIOS = (
    "thread",
    "process",
    "thread+load",
    "process+load",
    "interpreter",
    "interpreter+load",
)
DEFAULT_SCENARIOS = SCENARIOS[:4]
LOADS = ("bignum", "short", "release")
VICTIMS = ("incrementer", "io", "latency", "server")
VALUES = ("synchronized", "raw")
FORMATS = ("table", "json")
INTERPRETER_GILS = ("own", "shared")
SCALE_MODES = ("thread", "process", "interpreter", "free-thread")

DEFAULT_DELAYS = "0,1,2,3,4,5,6,7,8,9"
DEFAULT_INTERVAL_MS = 5.0
DEFAULT_BIGNUM_CAP_BITS = 20_000_000
DEFAULT_OP_US = 5.0
DEFAULT_IO_US = 100.0
DEFAULT_PERIOD_MS = 10.0
DEFAULT_RELEASE_OP_BYTES = 8 * 1024 * 1024
DEFAULT_SCALE_SECONDS = 2.0

MAX_DELAY_S = 3600.0
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 0.01, 1000.0
MIN_CAP_BITS, MAX_CAP_BITS = 64, 1_000_000_000
MIN_OP_US, MAX_OP_US = 1.0, 1_000_000.0
MIN_IO_US, MAX_IO_US = 0.0, 1_000_000.0
MIN_PERIOD_MS, MAX_PERIOD_MS = 0.1, 10_000.0
MIN_LOADS, MAX_LOADS = 1, 4
MIN_WORKERS, MAX_WORKERS = 1, 32
MIN_SECONDS, MAX_SECONDS = 0.01, 3600.0
# hashlib drops the GIL only around data of at least HASHLIB_GIL_MINSIZE (2048) bytes; below
# that a hash is one operation that holds the GIL, like the short load's.
MIN_RELEASE_OP_BYTES, MAX_RELEASE_OP_BYTES = 2048, 1024 * 1024 * 1024

# Why a legacy subinterpreter must not run code that never drops the GIL, on the versions where
# a thread of the main interpreter cannot get the shared GIL back from it (measured on this
# machine: with 3.9.18, 3.10.13 and 3.11.7 the main thread did not run for the whole 1 s of a busy
# loop in a subinterpreter; with 3.8.18, 3.12.1 and 3.13.0 it ran again within 0.13 s).
SHARED_GIL_TRAP = (
    "a legacy subinterpreter does not see the requests to drop the shared GIL that threads of "
    "another interpreter make: CPython 3.9 to 3.11 keep them per interpreter"
)


def shared_gil_trap() -> bool:
    """Whether this CPython has the trap of ``SHARED_GIL_TRAP``."""
    return (3, 9) <= sys.version_info[:2] < (3, 12)
START_TIMEOUT_S = 30.0  # how long workers may take to reach the start barrier
STOP_TIMEOUT_S = 30.0  # how long the victim may take to exit once the flag is cleared
WORKER_CODE_BEGIN = "# ==== worker code: begin ====\n"
WORKER_CODE_END = "# ==== worker code: end ====\n"


class RunError(Exception):
    """A run that could not complete; the message says why."""


def latency_clock() -> tuple:
    """The clock both ends of the latency test stamp with: its name in ``time``, and a note.

    ``time.monotonic`` is ``CLOCK_MONOTONIC`` on Linux (and ``mach_absolute_time`` on macOS): one
    clock for the whole machine, so the client's stamp and the victim's can be subtracted across
    processes. Elsewhere (e.g. Windows' 16 ms ``GetTickCount64``) the wall clock is used.
    """
    impl = time.get_clock_info("monotonic").implementation
    if "CLOCK_MONOTONIC" in impl or "mach_absolute_time" in impl or "CLOCK_UPTIME" in impl:
        return "monotonic", f"time.monotonic ({impl}), system-wide"
    return "time", f"time.time ({time.get_clock_info('time').implementation})"


LATENCY_CLOCK, LATENCY_CLOCK_NOTE = latency_clock()


# --- Processes: the victim's, the clients', scale's workers ----------------------------------


def child_setup() -> None:
    """First thing in every child process: the parent handles Ctrl-C and stops its children."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # undo the parent's handler, inherited by fork
    die_with_parent()


def die_with_parent() -> None:
    """Linux only, best effort: the kernel kills this process if its parent dies, even by SIGKILL.

    The parent terminates its children on every exit it can see (``finally`` blocks, Ctrl-C,
    SIGTERM); this covers the one it cannot, so no child is left running forever.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):
        pass


def victim_process(shared, interval_s: float, kind: str, params: dict, sock, results) -> None:
    """The body of the victim's process: an interpreter (and a GIL) of its own."""
    child_setup()
    sys.setswitchinterval(interval_s)
    results.send(run_victim(shared, kind, params, sock))


def latency_client(address, period_s: float, clock_name: str, ready, go, stop) -> None:
    """The latency test's client: a datagram every period, carrying its send time.

    It keeps to its schedule; a send that is late (a busy machine) restarts the schedule from
    now rather than sending a burst. It stops when the controller sets ``stop``.
    """
    child_setup()
    clock = getattr(time, clock_name)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ready.release()
        go.wait()
        due = time.monotonic()
        while not stop.is_set():
            due += period_s
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                due = time.monotonic()
            sock.sendto(repr(clock()).encode(), address)


def server_client(address, ready, go) -> None:
    """The echo experiment's client: one request, wait for the whole answer, the next one.

    It ends when the server closes the connection (the end of the run).
    """
    child_setup()
    with socket.create_connection(address, timeout=ACCEPT_TIMEOUT_S) as sock:
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ready.release()
        go.wait()
        try:
            while True:
                sock.sendall(MESSAGE)
                got = 0
                while got < len(MESSAGE):
                    chunk = sock.recv(len(MESSAGE) - got)
                    if not chunk:
                        return
                    got += len(chunk)
        except (ConnectionResetError, BrokenPipeError):
            return


def scale_process(block_path: str, index: int, kind: str, arg, interval_s: float) -> None:
    """One worker of ``scale --modes process``."""
    child_setup()
    sys.setswitchinterval(interval_s)
    block = MappedBlock(block_path)
    try:
        scale_worker(block, index, kind, arg)
    finally:
        block.close()


def short_op_size(op_s: float) -> tuple:
    """How many items make ``sum(range(items))`` last ``op_s`` on this machine, and its time.

    A short operation must be one uninterruptible operation, as a multiplication is: a loop of
    Python bytecodes (e.g. busy-waiting on ``perf_counter``) could be switched out anywhere, so
    the GIL's switch interval would cut it up. ``sum(range(n))`` is a single call into C that
    never releases the GIL and never returns to the eval loop, and its cost grows with ``n``
    (linearly past the 256 cached small ints), so it is calibrated in a few steps. Each call is
    timed on its own and the fastest is kept: on a busy machine a timing that spans many calls
    nearly always includes time the process spent preempted (which made the operations three
    times too short when 20 processes shared two cores), one short call nearly never does.
    """
    timer = min(timer_cost() for _ in range(3))
    calls = max(5, min(300, int(0.05 / max(op_s, 1e-7))))

    def seconds_per_call(items: int) -> float:
        best = math.inf
        for _ in range(calls):
            started = perf_counter()
            sum(range(items))
            best = min(best, perf_counter() - started)
        return max(best - timer, 1e-9)

    items = 100
    for _ in range(6):
        items = max(1, round(items * op_s / seconds_per_call(items)))
    return items, seconds_per_call(items)


def timer_cost() -> float:
    """The fastest of 100 back-to-back ``perf_counter`` calls: what one timing adds."""
    best = math.inf
    for _ in range(100):
        started = perf_counter()
        best = min(best, perf_counter() - started)
    return best


# --- Subinterpreters --------------------------------------------------------------------------


class Subinterpreters:
    """One way to create a subinterpreter, run code in it (blocking the calling thread) and
    destroy it, and its name for ``config.interpreters``."""

    def __init__(self, name: str, create, run, destroy) -> None:
        self.name, self.create, self.run, self.destroy = name, create, run, destroy


def find_subinterpreters(gil: str) -> tuple:
    """``(Subinterpreters, None)`` if this Python has the kind asked for, else ``(None, why)``.

    Tested with CPython 3.8, 3.11, 3.12 and 3.13; UNTESTED with 3.14 (``concurrent.interpreters``,
    written from its documented API).
    """
    here = f"{platform.python_implementation()} {platform.python_version()}"
    if platform.python_implementation() != "CPython":
        return None, f"{here} is not CPython, whose subinterpreters these scenarios use"
    if worker_code() is None:
        return None, "this script's own source is not readable, and a subinterpreter runs it"
    version = sys.version_info[:2]
    if gil == "own" and version < (3, 12):
        return None, (
            f"{here} has no subinterpreter with a GIL of its own (PEP 684 came with CPython 3.12, "
            "concurrent.interpreters with 3.14); --interpreter-gil shared runs them in a legacy "
            "subinterpreter under this interpreter's GIL"
        )
    try:
        if gil == "own" and version >= (3, 14):
            from concurrent import interpreters

            return (
                Subinterpreters(
                    "concurrent.interpreters (own GIL)",
                    interpreters.create,
                    lambda interp, code: interp.exec(code),
                    lambda interp: interp.close(),
                ),
                None,
            )
        if version >= (3, 13):
            import _interpreters

            config = "isolated" if gil == "own" else "legacy"

            def run(interp, code):
                failed = _interpreters.exec(interp, code)
                if failed is not None:
                    text = getattr(failed, "formatted", None) or getattr(failed, "msg", None)
                    raise RuntimeError(text or repr(failed))

            return (
                Subinterpreters(
                    f"_interpreters.create({config!r})",
                    lambda: _interpreters.create(config),
                    run,
                    _interpreters.destroy,
                ),
                None,
            )
        import _xxsubinterpreters

        if version >= (3, 12):
            isolated = gil == "own"
            name = f"_xxsubinterpreters.create(isolated={isolated})"

            def create():
                return _xxsubinterpreters.create(isolated=isolated)

        else:
            name = "_xxsubinterpreters.create() (legacy: one GIL for all interpreters)"
            create = _xxsubinterpreters.create
        return (
            Subinterpreters(name, create, _xxsubinterpreters.run_string, _xxsubinterpreters.destroy),
            None,
        )
    except ImportError as e:
        return None, f"{here} has no subinterpreter module ({e})"


_WORKER_CODE = []


def worker_code():
    """The text of this file's worker section (see its first comment), or None."""
    if not _WORKER_CODE:
        try:
            with open(os.path.abspath(__file__), encoding="utf-8") as f:
                text = f.read()
            begin = text.index(WORKER_CODE_BEGIN)
            end = text.index(WORKER_CODE_END, begin)
            _WORKER_CODE.append(text[begin:end])
        except (NameError, OSError, ValueError):
            _WORKER_CODE.append(None)
    return _WORKER_CODE[0]


def interpreter_code(entry: str, args: dict) -> str:
    """The code a subinterpreter runs: the worker section, then one call. ``args`` holds only
    strings, numbers and None, so its ``repr`` is a literal."""
    return f"{worker_code()}\n{entry}({args!r})\n"


def run_in_subinterpreter(api: Subinterpreters, code: str) -> None:
    """The body of a main-interpreter thread that lends itself to a subinterpreter: while the
    subinterpreter runs, this thread holds that interpreter's GIL, not the main one's."""
    interp = api.create()
    try:
        api.run(interp, code)
    finally:
        api.destroy(interp)


# --- One run of the sweep: the controller -----------------------------------------------------


class Shared:
    """The shared state of one run: the flag, the counter, the victim's elapsed time, and the
    start barrier (``ready``, ``go``) of every participant in the main interpreter or another
    process."""

    def __init__(self, running, counter, elapsed, ready, go) -> None:
        self.running, self.counter, self.elapsed = running, counter, elapsed
        self.ready, self.go = ready, go


def shared_values(ctx, values: str) -> Shared:
    """The seed's ``multiprocessing.Value`` objects, with their own lock or without."""
    synchronized = values == "synchronized"
    return Shared(
        ctx.Value("b", True, lock=synchronized),
        ctx.Value("q", 0, lock=synchronized),
        ctx.Value("d", 0.0, lock=False),  # written once, so it needs no lock
        ctx.Semaphore(0),
        ctx.Event(),
    )


class Worker(threading.Thread):
    """A daemon thread that keeps what its target returned, or the exception it raised."""

    def __init__(self, name: str, target, *args) -> None:
        super().__init__(name=name, daemon=True)
        self._work = (target, args)
        self.result = None
        self.error = None

    def run(self) -> None:
        target, args = self._work
        try:
            self.result = target(*args)
        except BaseException as e:  # reported by the controller, which owns the run
            self.error = e


class Run:
    """Everything one run starts, so that ``stop`` can end all of it on any path."""

    def __init__(self, shared: Shared, block, stop_clients) -> None:
        self.shared, self.block, self.stop_clients = shared, block, stop_clients
        self.threads: list = []
        self.processes: list = []  # the victim's process first, then the clients
        self.sock = None
        self.address = None
        self.victim = ""

    def wake_victim(self) -> None:
        """Lets a victim blocked on its socket see the cleared flag: an empty datagram for the
        latency victim; for the server victim still in ``accept``, a connection."""
        if self.address is None:
            return
        try:
            if self.victim == "latency":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.sendto(b"", self.address)
            else:
                socket.create_connection(self.address, timeout=0.5).close()
        except OSError:
            pass

    def stop(self) -> None:
        """Clears the flag, lets waiting workers through, and ends every child: no orphan.

        After a normal run there is nothing left to do. After a failure or Ctrl-C, the flag is
        written without its lock (a child killed while holding it would block us forever), and
        threads are not waited for long: they are daemons, and a load thread in the middle of a
        multiplication holds the GIL until it ends anyway. A subinterpreter's thread is waited for
        longer: it stops soon once the flag is cleared, and must not outlive the interpreter.
        """
        running = self.shared.running
        (running.get_obj() if hasattr(running, "get_obj") else running).value = False
        self.shared.go.set()  # workers still at the barrier must get through and leave
        if self.block is not None:
            self.block.running.value = 0
            self.block.go.set()
        self.stop_clients.set()
        self.wake_victim()
        for p in self.processes:
            p.join(1.0)
            if p.is_alive():
                p.terminate()
                p.join()
        for t in self.threads:
            if t.ident is not None:  # started
                t.join(5.0 if self.block is not None else 1.0)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def run_one(ctx, opts, scenario: str, delay_s: float, interval_ms: float, loads: int) -> dict:
    """Runs one scenario for one delay and one number of loads; returns its result, as gil-lab's
    ``RunResult``. ``interval_ms`` is the switch interval the caller has set in this process."""
    kind = scenario.split("+")[0]  # thread, process or interpreter
    has_load = scenario.endswith("+load")
    tmpdir = tempfile.mkdtemp(prefix="gil-experiment-") if kind == "interpreter" else None
    block = path = None
    if tmpdir is not None:
        path = os.path.join(tmpdir, "shared")
        with open(path, "wb") as f:
            f.write(bytes(MappedBlock.SIZE))
        block = MappedBlock(path)
        block.running.value = 1
        shared = Shared(block.running, block.counter, block.elapsed, ctx.Semaphore(0), ctx.Event())
    else:
        shared = shared_values(ctx, opts.values)
    run = Run(shared, block, ctx.Event())
    run.victim = opts.victim
    reports = [LoadReport() for _ in range(loads)] if has_load else []
    params = {"io_s": opts.io_us / 1e6, "clock": LATENCY_CLOCK}
    results_conn = None
    try:
        if opts.victim == "latency":
            run.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            run.sock.bind(("127.0.0.1", 0))
        elif opts.victim == "server":
            run.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            run.sock.bind(("127.0.0.1", 0))
            run.sock.listen(1)
        if run.sock is not None:
            run.address = run.sock.getsockname()

        # Processes first, so that a forked child copies a parent with one thread only.
        if kind == "process":
            results_conn, send = ctx.Pipe(duplex=False)
            run.processes.append(
                ctx.Process(
                    target=victim_process,
                    args=(shared, interval_ms / 1000, opts.victim, params, run.sock, send),
                    name=opts.victim,
                    daemon=True,
                )
            )
            run.processes[-1].start()
            send.close()
        if opts.victim == "latency":
            client_args = (run.address, opts.period_ms / 1000, LATENCY_CLOCK, shared.ready)
            client_args += (shared.go, run.stop_clients)
            client = ctx.Process(target=latency_client, args=client_args, daemon=True)
        elif opts.victim == "server":
            client_args = (run.address, shared.ready, shared.go)
            client = ctx.Process(target=server_client, args=client_args, daemon=True)
        else:
            client = None
        if client is not None:
            client.name = f"{opts.victim} client"
            run.processes.append(client)
            client.start()

        result_path = None
        if kind == "thread":
            run.threads.append(Worker(opts.victim, run_victim, shared, opts.victim, params, run.sock))
        elif kind == "interpreter":
            result_path = os.path.join(tmpdir, "latency")
            args = {
                "interval_s": interval_ms / 1000,
                "block": path,
                "victim": opts.victim,
                "params": params,
                "fd": run.sock.fileno() if run.sock is not None else None,
                "family": int(run.sock.family) if run.sock is not None else None,
                "type": int(run.sock.type) if run.sock is not None else None,
                "result": result_path,
            }
            code = interpreter_code("interpreter_victim_main", args)
            run.threads.append(
                Worker(f"{opts.victim} (subinterpreter)", run_in_subinterpreter, opts.subs, code)
            )
        for report in reports:
            run.threads.append(Worker("load", run_load, shared, report, opts.load, opts.load_arg))
        for t in run.threads:
            t.start()

        in_main = len(run.threads) - (1 if kind == "interpreter" else 0) + len(run.processes)
        wait_until_ready(run, in_main, 1 if block is not None else 0, scenario)
        wake_at = perf_counter() + delay_s
        shared.go.set()
        if block is not None:
            block.go.set()
        # sleep() releases the GIL. The OS wakes us at wake_at, but sleep() returns only once it
        # has the GIL back, and only then can the flag be cleared: the late stop.
        now = perf_counter()
        wake_at = max(wake_at, now)
        time.sleep(wake_at - now)
        shared.running.value = False
        stop_lag_s = perf_counter() - wake_at
        run.stop_clients.set()
        if opts.victim == "latency":
            run.wake_victim()

        victim_result = None
        if results_conn is not None and results_conn.poll(STOP_TIMEOUT_S):
            try:
                victim_result = results_conn.recv()
            except EOFError:  # the child died: its exit status says how, below
                pass
        for t in run.threads:
            t.join(STOP_TIMEOUT_S)
            if t.is_alive():
                raise RunError(f"the {t.name} thread did not stop within {STOP_TIMEOUT_S:g} s")
            if t.error is not None:
                raise RunError(f"the {t.name} thread failed: {describe(t.error)}")
            if t.name == opts.victim:
                victim_result = t.result
        for p in run.processes:
            p.join(STOP_TIMEOUT_S)
            if p.exitcode is None:
                raise RunError(f"the {p.name} process did not stop within {STOP_TIMEOUT_S:g} s")
            if p.exitcode != 0:
                raise RunError(f"the {p.name} process {how_it_ended(p)}")
        count = shared.counter.value
        elapsed_s = shared.elapsed.value
        if result_path is not None and os.path.exists(result_path):
            with open(result_path) as f:
                victim_result = {"latency_s": [float(x) for x in f.read().split()]}
    finally:
        run.stop()
        run.close()
        if results_conn is not None:
            results_conn.close()
        if block is not None:
            block.close()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)

    latency = None
    if opts.victim == "latency":
        latency = latency_summary(victim_result["latency_s"] if victim_result else [])
    load = None
    if reports:
        load = {
            "ops": sum(r.ops for r in reports),
            "restarts": sum(r.restarts for r in reports),
            "op_s": reports[0].op_s,
        }
    return {
        "scenario": scenario,
        "delay_s": delay_s,
        "switch_interval_ms": interval_ms,
        "victim": opts.victim,
        "loads": loads,
        "count": count,
        "elapsed_s": elapsed_s,
        "stop_lag_s": stop_lag_s,
        "rate_per_s": count / elapsed_s if elapsed_s > 0 else 0.0,
        "latency_ms": latency,
        "switches": None,
        "workers": [],
        "load": load,
        "load_threads": [r.to_json() for r in reports],
    }


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else repr(error)


def latency_summary(samples_s: list) -> dict:
    """``latency_ms``: mean and nearest-rank percentiles of the samples, in milliseconds."""
    n = len(samples_s)
    if n == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "max": None, "n": 0}
    ms = sorted(s * 1000 for s in samples_s)

    def rank(p: float) -> float:
        return ms[max(0, math.ceil(p / 100 * n) - 1)]

    return {
        "mean": sum(ms) / n,
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": ms[-1],
        "n": n,
    }


def wait_until_ready(run: Run, in_main: int, in_sub: int, what: str) -> None:
    """The start barrier: returns once ``in_main`` participants have released ``ready`` and
    ``in_sub`` subinterpreter workers have set their ready byte; fails early if one died."""
    deadline = perf_counter() + START_TIMEOUT_S
    arrived = 0
    while arrived < in_main or (in_sub and run.block.ready_count(in_sub) < in_sub):
        if arrived < in_main and run.shared.ready.acquire(timeout=0.01):
            arrived += 1
            continue
        if arrived >= in_main:
            time.sleep(0.001)
        check_alive(run.threads, run.processes)
        if perf_counter() > deadline:
            raise RunError(f"the workers of '{what}' did not start within {START_TIMEOUT_S:g} s")


def check_alive(threads: list, processes: list) -> None:
    for t in threads:
        if t.error is not None:
            raise RunError(f"the {t.name} thread failed before it started: {describe(t.error)}")
    for p in processes:
        if not p.is_alive():
            raise RunError(f"the {p.name} process {how_it_ended(p)} before it started")


def how_it_ended(process) -> str:
    code = process.exitcode
    return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"


# --- The sweep and its output -----------------------------------------------------------------


def python_info() -> dict:
    """The interpreter that ran the experiment."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13 and later
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "gil_enabled": bool(is_gil_enabled()) if is_gil_enabled else True,
    }


def release_op_name() -> str:
    return f"hashlib.sha256 ({getattr(hashlib.sha256, '__name__', '?')})"


def say_skipped(what: str, skipped: list, key: str) -> None:
    """The one line on standard error that names what was skipped and why (even with -q)."""
    if skipped:
        names = ", ".join(s[key] for s in skipped)
        print(f"skipped {what} {names}: {skipped[0]['reason']}", file=sys.stderr, flush=True)


def sweep(opts) -> dict:
    """Every scenario at every delay, in gil-lab's order (for each delay, each scenario), once
    for each switch interval and each number of loads."""
    ctx = multiprocessing.get_context(opts.start_method)
    intervals = opts.intervals
    skipped = []
    scenarios = opts.scenarios
    if any(sc.startswith("interpreter") for sc in scenarios):
        opts.subs, why = find_subinterpreters(opts.interpreter_gil)
        if opts.subs is None:
            skipped = [{"scenario": sc, "reason": why} for sc in scenarios if "interpreter" in sc]
            scenarios = [sc for sc in scenarios if "interpreter" not in sc]
    say_skipped("scenario" + ("s" if len(skipped) > 1 else ""), skipped, "scenario")
    latency = opts.victim == "latency"
    config = {
        "load": opts.load,
        "loads": opts.loads,
        # One interval, as gil-lab's config has; null when --intervals gives several.
        "switch_interval_ms": intervals[0] if len(intervals) == 1 else None,
        "switch_intervals_ms": intervals,
        "delays": opts.delays,
        "scenarios": scenarios,
        "skipped": skipped,
        "victim": opts.victim,
        "op_us": opts.op_us,
        "io_us": opts.io_us,
        "period_ms": opts.period_ms if latency else None,
        "latency_clock": LATENCY_CLOCK_NOTE if latency else None,
        "interpreter_gil": opts.interpreter_gil,
        "interpreters": opts.subs.name if opts.subs is not None else None,
        "values": opts.values,
        "start_method": opts.start_method,
        "bignum_cap_bits": opts.bignum_cap_bits,
        "short_op_us": opts.op_us,
        "io_op_us": opts.io_us,
        "short_op_items": opts.short_op_items,
        "release_op_bytes": opts.release_op_bytes,
        "release_op": release_op_name(),
        "python": python_info(),
    }
    runs = [
        (ms, n, d, sc)
        for ms in intervals
        for n in opts.loads
        for d in opts.delays
        for sc in scenarios
    ]
    results = []
    for i, (interval_ms, loads, delay_s, scenario) in enumerate(runs, 1):
        where = f"{scenario} at {delay_s:g} s"
        if len(opts.loads) > 1 or loads > 1:
            where += f", {loads} load{'s' if loads > 1 else ''}"
        if len(intervals) > 1:
            where += f", interval {interval_ms:g} ms"
        progress(opts, f"[{i}/{len(runs)}] {where} ...")
        sys.setswitchinterval(interval_ms / 1000)
        try:
            result = run_one(ctx, opts, scenario, delay_s, interval_ms, loads)
        except RunError as e:
            raise RunError(f"{where}: {e}") from None
        progress(opts, "    " + summary_line(result))
        results.append(result)
    return {"config": config, "results": results}


def summary_line(result: dict) -> str:
    lag = f"stop lag {result['stop_lag_s']:.3f} s"
    latency = result["latency_ms"]
    if latency is not None:
        if latency["n"] == 0:
            return f"no request answered, {lag}"
        return (
            f"{latency['n']} requests, latency mean {latency['mean']:.2f} ms, "
            f"p99 {latency['p99']:.2f} ms, {lag}"
        )
    if result["victim"] == "server":
        return f"{result['count']:,} requests, {result['rate_per_s']:,.0f} req/s, {lag}"
    return f"count {result['count']:,}, {lag}"


def progress(opts, line: str) -> None:
    if not opts.quiet:
        print(line, file=sys.stderr, flush=True)


def cell(result: dict) -> str:
    """One table cell: the count, the server's requests per second, or the latency."""
    latency = result["latency_ms"]
    if latency is not None:
        if latency["n"] == 0:
            return "no requests"
        return f"{latency['mean']:.2f} ms (p99 {latency['p99']:.2f})"
    if result["victim"] == "server":
        return f"{result['rate_per_s']:,.0f} req/s"
    return f"{result['count']:,}"


def render_table(report: dict) -> str:
    """The seed's table, laid out as ``gil-lab sweep --format table``: one row per delay, and per
    switch interval or number of loads when there are several (first columns ``interval_ms``,
    ``loads``)."""
    config = report["config"]
    intervals, loads = config["switch_intervals_ms"], config["loads"]
    several_ms, several_n = len(intervals) > 1, len(loads) > 1
    cells = {}
    for r in report["results"]:
        key = (r["switch_interval_ms"], r["loads"], r["delay_s"], r["scenario"])
        cells.setdefault(key, cell(r))
    head = (["interval_ms"] if several_ms else []) + (["loads"] if several_n else [])
    rows = [head + ["delay_s"] + config["scenarios"]]
    for ms in intervals:
        for n in loads:
            for d in config["delays"]:
                row = [cells.get((ms, n, d, sc), "-") for sc in config["scenarios"]]
                first = ([f"{ms:g}"] if several_ms else []) + ([str(n)] if several_n else [])
                rows.append(first + [f"{d:g}"] + row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]

    lags = []
    for sc in config["scenarios"]:
        of_sc = [r["stop_lag_s"] for r in report["results"] if r["scenario"] == sc]
        if of_sc:
            lags.append(f"{sc} {max(of_sc):.3f} s")
    python = config["python"]
    what = {
        "io": "operations of the io victim",
        "latency": f"latency of a request every {config['period_ms'] or 0:g} ms, mean (p99)",
        "server": "requests per second of the echo server",
    }.get(config["victim"], "incrementer counts")
    interval = ", ".join(f"{ms:g}" for ms in intervals)
    n_loads = ", ".join(str(n) for n in loads)
    footer = (
        f"{python['implementation']} {python['version']}, {what}, {n_loads} {config['load']} "
        f"load thread{'s' if loads != [1] else ''} in +load, "
        f"switch interval{'s' if several_ms else ''} {interval} ms, {config['values']} values"
    )
    extra = [f"skipped: {s['scenario']}" for s in config["skipped"]]
    return "\n".join(lines + ["", "stop lag (max): " + ", ".join(lags), footer] + extra) + "\n"


# --- The scaling test -------------------------------------------------------------------------


def scale(opts) -> dict:
    """Every mode at every worker count: throughput against one worker of the same mode."""
    ctx = multiprocessing.get_context(opts.start_method)
    skipped = []
    modes = []
    for mode in opts.modes:
        why = None
        if mode == "interpreter":
            opts.subs, why = find_subinterpreters(opts.interpreter_gil)
        elif mode == "free-thread" and python_info()["gil_enabled"]:
            why = (
                f"CPython {platform.python_version()} runs with the GIL "
                "(sys._is_gil_enabled() is not false); use a free-threaded build such as "
                "python3.13t, without PYTHON_GIL=1"
            )
        if why is None:
            modes.append(mode)
        else:
            skipped.append({"mode": mode, "reason": why})
    for s in skipped:
        print(f"skipped mode {s['mode']}: {s['reason']}", file=sys.stderr, flush=True)
    config = {
        "command": "scale",
        "load": opts.load,
        "workers": opts.workers,
        "modes": modes,
        "skipped": skipped,
        "seconds": opts.seconds,
        "op_us": opts.op_us,
        "short_op_items": opts.short_op_items,
        "release_op_bytes": opts.release_op_bytes,
        "release_op": release_op_name(),
        "bignum_cap_bits": opts.bignum_cap_bits,
        "switch_interval_ms": opts.interval_ms,
        "start_method": opts.start_method,
        "cpu_count": os.cpu_count(),
        "interpreter_gil": opts.interpreter_gil,
        "interpreters": opts.subs.name if opts.subs is not None else None,
        "python": python_info(),
    }
    sys.setswitchinterval(opts.interval_ms / 1000)
    results = []
    runs = [(m, w) for m in modes for w in opts.workers]
    for i, (mode, workers) in enumerate(runs, 1):
        where = f"{mode}, {workers} worker{'s' if workers > 1 else ''}"
        progress(opts, f"[{i}/{len(runs)}] {where} ...")
        try:
            result = scale_one(ctx, opts, mode, workers)
        except RunError as e:
            raise RunError(f"{where}: {e}") from None
        base = next((r for r in results if r["mode"] == mode and r["workers"] == 1), result)
        result["speedup"] = result["ops_per_s"] / base["ops_per_s"] if base["ops_per_s"] else None
        speedup = f"{result['speedup']:.2f}x" if result["speedup"] is not None else "-"
        progress(opts, f"    {result['ops']:,} ops, {result['ops_per_s']:,.0f} ops/s, {speedup}")
        results.append(result)
    return {"config": config, "results": results}


def scale_one(ctx, opts, mode: str, workers: int) -> dict:
    """One mode at one worker count."""
    tmpdir = tempfile.mkdtemp(prefix="gil-experiment-")
    path = os.path.join(tmpdir, "shared")
    with open(path, "wb") as f:
        f.write(bytes(MappedBlock.SIZE))
    block = MappedBlock(path)
    block.running.value = 1
    interval_s = opts.interval_ms / 1000
    arg = opts.release_op_bytes if opts.load == "release" else opts.load_arg
    threads, processes = [], []
    try:
        for i in range(workers):
            if mode == "process":
                p = ctx.Process(
                    target=scale_process,
                    args=(path, i, opts.load, arg, interval_s),
                    name=f"worker {i + 1}",
                    daemon=True,
                )
                processes.append(p)
                p.start()
            elif mode == "interpreter":
                args = {"interval_s": interval_s, "block": path, "index": i}
                args.update({"load": opts.load, "arg": arg})
                code = interpreter_code("interpreter_load_main", args)
                threads.append(
                    Worker(f"worker {i + 1} (subinterpreter)", run_in_subinterpreter, opts.subs, code)
                )
            else:
                threads.append(Worker(f"worker {i + 1}", scale_worker, block, i, opts.load, arg))
        for t in threads:
            t.start()
        deadline = perf_counter() + START_TIMEOUT_S
        while block.ready_count(workers) < workers:
            check_alive(threads, processes)
            if perf_counter() > deadline:
                raise RunError(f"the workers did not start within {START_TIMEOUT_S:g} s")
            time.sleep(0.001)
        started = time.monotonic()
        block.go.set()
        time.sleep(opts.seconds)
        block.running.value = 0
        for t in threads:
            t.join(STOP_TIMEOUT_S)
            if t.is_alive():
                raise RunError(f"{t.name} did not stop within {STOP_TIMEOUT_S:g} s")
            if t.error is not None:
                raise RunError(f"{t.name} failed: {describe(t.error)}")
        for p in processes:
            p.join(STOP_TIMEOUT_S)
            if p.exitcode is None:
                raise RunError(f"{p.name} did not stop within {STOP_TIMEOUT_S:g} s")
            if p.exitcode != 0:
                raise RunError(f"the process of {p.name} {how_it_ended(p)}")
        slots = [block.slot(i) for i in range(workers)]
        worker_ops = [ops.value for ops, _ in slots]
        elapsed_s = max(end.value for _, end in slots) - started
    finally:
        block.running.value = 0
        block.go.set()
        for p in processes:
            p.join(1.0)
            if p.is_alive():
                p.terminate()
                p.join()
        for t in threads:
            if t.ident is not None:  # started
                t.join(5.0 if mode == "interpreter" else 1.0)
        block.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
    ops = sum(worker_ops)
    return {
        "mode": mode,
        "workers": workers,
        "ops": ops,
        "elapsed_s": elapsed_s,
        "ops_per_s": ops / elapsed_s if elapsed_s > 0 else 0.0,
        "speedup": None,
        "worker_ops": worker_ops,
    }


def render_scale_table(report: dict) -> str:
    config = report["config"]
    rows = [["mode", "workers", "ops", "elapsed_s", "ops_per_s", "speedup"]]
    for r in report["results"]:
        speedup = f"{r['speedup']:.2f}x" if r["speedup"] is not None else "-"
        rows.append(
            [
                r["mode"],
                str(r["workers"]),
                f"{r['ops']:,}",
                f"{r['elapsed_s']:.3f}",
                f"{r['ops_per_s']:,.0f}",
                speedup,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    verdicts = []
    for mode in config["modes"]:
        of_mode = [r for r in report["results"] if r["mode"] == mode and r["workers"] > 1]
        if of_mode and of_mode[-1]["speedup"] is not None:
            best = of_mode[-1]
            verdicts.append(
                f"{mode}: {best['workers']} workers do {best['speedup']:.2f}x the work of one"
            )
    python = config["python"]
    footer = (
        f"{python['implementation']} {python['version']}, {config['load']} load, "
        f"{config['seconds']:g} s a run, {config['cpu_count']} CPUs"
    )
    extra = [f"skipped: {s['mode']}" for s in config["skipped"]]
    return "\n".join(lines + [""] + verdicts + [footer] + extra) + "\n"


# --- Command line -----------------------------------------------------------------------------


def parse_delays(text: str) -> list:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the delay list is empty; give seconds separated by commas, e.g. 1,2,5"
        )
    delays = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"the delay '{part}' is not a number of seconds; write e.g. 2 or 0.5"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"the delay '{part}' must be zero or more seconds")
        if value > MAX_DELAY_S:
            raise argparse.ArgumentTypeError(
                f"the delay '{part}' is longer than {MAX_DELAY_S:g} s; choose a shorter one"
            )
        delays.append(value)
    return delays


def parse_intervals(text: str) -> list:
    """``--intervals``: switch intervals in milliseconds, each checked as ``--interval-ms`` is."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the interval list is empty; give milliseconds separated by commas, e.g. 0.1,1,5,20"
        )
    one = parse_number(
        "the switch interval", "milliseconds", "ms", MIN_INTERVAL_MS, MAX_INTERVAL_MS, "5 or 0.5"
    )
    intervals = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise argparse.ArgumentTypeError(
                f"the interval list '{text}' has an empty entry; "
                "give milliseconds separated by commas, e.g. 0.1,1,5,20"
            )
        value = one(part)
        if value not in intervals:
            intervals.append(value)
    return intervals


def parse_counts(what: str, unit: str, low: int, high: int, example: str):
    """A comma-separated list of whole numbers from ``low`` to ``high`` (``--loads``,
    ``--workers``), without repeats, in the order given."""

    def parse(text: str) -> list:
        if not text.strip():
            raise argparse.ArgumentTypeError(
                f"the {what} list is empty; give {low} to {high} {unit}, e.g. {example}"
            )
        counts = []
        for part in text.split(","):
            part = part.strip()
            try:
                value = int(part)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"the {what} '{part}' is not a whole number of {unit}; write e.g. {example}"
                ) from None
            if not low <= value <= high:
                raise argparse.ArgumentTypeError(
                    f"the {what} {value} is out of range; choose from {low} to {high} {unit}"
                )
            if value not in counts:
                counts.append(value)
        return counts

    return parse


def parse_names(what: str, choices: tuple, example: str, refuse=None):
    """A comma-separated list of names from ``choices``, without repeats; ``refuse(name)`` may
    return a sentence for a name that needs one of its own."""

    def parse(text: str) -> list:
        names = []
        for part in text.split(","):
            name = part.strip().lower()
            if not name:
                raise argparse.ArgumentTypeError(
                    f"the {what} list '{text}' has an empty entry; "
                    f"give names separated by commas, e.g. {example}"
                )
            why = refuse(name) if refuse else None
            if why:
                raise argparse.ArgumentTypeError(why)
            if name not in choices:
                raise argparse.ArgumentTypeError(
                    f"unknown {what} '{name}'; use one or more of: {', '.join(choices)}"
                )
            if name not in names:
                names.append(name)
        return names

    return parse


def refuse_free_thread_scenario(name: str):
    if name.startswith("free-thread"):
        return (
            f"'{name}' is gil-lab's emulation of a free-threaded CPython; here, run "
            f"'{name[len('free-'):]}' with a free-threaded interpreter such as python3.13t"
        )
    return None


parse_scenarios = parse_names(
    "scenario", SCENARIOS, "thread,thread+load", refuse_free_thread_scenario
)


def parse_choice(what: str, choices: tuple):
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise argparse.ArgumentTypeError(
                f"unknown {what} '{text}'; use one of: {', '.join(choices)}"
            )
        return value

    return parse


def plain(x: float) -> str:
    """A bound as people write it: ``0.01``, ``1,000``, ``1,000,000,000``."""
    return f"{int(x):,}" if x == int(x) else f"{x:g}"


def parse_number(
    what: str, unit: str, symbol: str, low: float, high: float, example: str, whole: bool = False
):
    def parse(text: str):
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(
                f"{what} '{text}' is not {kind} of {unit}; write e.g. {example}"
            ) from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(
                f"{what} {text} {symbol} is out of range; "
                f"choose from {plain(low)} to {plain(high)} {symbol}"
            )
        return value

    return parse


class Parser(argparse.ArgumentParser):
    """argparse with gil-lab's error style: one sentence, a pointer to --help, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}\n({self.prog} --help lists every option)\n")


def default_start_method() -> str:
    return "fork" if sys.platform.startswith("linux") else multiprocessing.get_start_method()


def add_common_options(p: Parser) -> None:
    """The options the sweep and ``scale`` share: the loads' settings, the start method, the
    subinterpreters' GIL, the output."""
    p.add_argument(
        "--op-us",
        "--short-op-us",
        dest="op_us",
        type=parse_number("the short operation", "microseconds", "us", MIN_OP_US, MAX_OP_US, "5"),
        default=DEFAULT_OP_US,
        metavar="US",
        help="length of one operation of the short load, which holds the GIL throughout "
        "(default: 5; --short-op-us is the old name)",
    )
    p.add_argument(
        "--bignum-cap-bits",
        type=parse_number(
            "the bignum cap", "bits", "bits", MIN_CAP_BITS, MAX_CAP_BITS, "20000000", whole=True
        ),
        default=DEFAULT_BIGNUM_CAP_BITS,
        metavar="BITS",
        help="z restarts from 10 once it has more bits than this (default: 20000000)",
    )
    p.add_argument(
        "--release-op-bytes",
        type=parse_number(
            "the release operation",
            "bytes",
            "bytes",
            MIN_RELEASE_OP_BYTES,
            MAX_RELEASE_OP_BYTES,
            "8388608",
            whole=True,
        ),
        default=DEFAULT_RELEASE_OP_BYTES,
        metavar="BYTES",
        help="bytes hashed by one operation of the release load; hashlib drops the GIL from "
        "2048 bytes (default: 8388608, 8 MiB)",
    )
    start = default_start_method()
    p.add_argument(
        "--start-method",
        type=parse_choice("start method", tuple(multiprocessing.get_all_start_methods())),
        default=start,
        help=f"how child processes start (default: {start})",
    )
    p.add_argument(
        "--interpreter-gil",
        type=parse_choice("subinterpreter GIL", INTERPRETER_GILS),
        default="own",
        help="own (PEP 684, CPython 3.12+: the point of the interpreter scenarios) or shared "
        "(a legacy subinterpreter under the main GIL, CPython 3.8+) (default: own)",
    )
    p.add_argument(
        "--format",
        type=parse_choice("format", FORMATS),
        default="table",
        help="table or json (as gil-lab's --format json)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")


def parse_args(argv=None):
    p = Parser(
        description="The GIL experiments on real CPython threads, processes and "
        "subinterpreters: the reference for gil-lab. Prints the same JSON as `gil-lab sweep "
        "--format json`. The scaling test: `%(prog)s scale --help`.",
    )
    p.add_argument(
        "--delays",
        type=parse_delays,
        default=parse_delays(DEFAULT_DELAYS),
        metavar="LIST",
        help="delays in seconds, comma-separated, e.g. 1,2,5 (default: 0,1,...,9)",
    )
    p.add_argument(
        "--scenarios",
        type=parse_scenarios,
        default=list(DEFAULT_SCENARIOS),
        metavar="LIST",
        help=f"scenarios, comma-separated, from: {', '.join(SCENARIOS)} "
        "(default: the first four)",
    )
    p.add_argument(
        "--victim",
        type=parse_choice("victim", VICTIMS),
        default="incrementer",
        help="what is measured: incrementer (the seed's counting loop), io (one blocking call of "
        "--io-us per operation), latency (how late a request every --period-ms is seen, "
        "ccbench's test) or server (an echo server's requests per second) (default: incrementer)",
    )
    p.add_argument(
        "--load",
        type=parse_choice("load", LOADS),
        default="bignum",
        help="bignum (the seed's z = z * z), short (operations of --op-us that hold the GIL) or "
        "release (hashlib.sha256 of --release-op-bytes, which drops the GIL)",
    )
    p.add_argument(
        "--loads",
        type=parse_counts("load count", "load threads", MIN_LOADS, MAX_LOADS, "1 or 1,2,4"),
        default=[1],
        metavar="LIST",
        help="how many load threads run side by side in the +load scenarios, 1 to 4; several, "
        "comma-separated, repeat the sweep for each (default: 1)",
    )
    p.add_argument(
        "--intervals",
        type=parse_intervals,
        default=None,
        metavar="LIST",
        help="switch intervals in milliseconds, comma-separated, e.g. 0.1,1,5,20: every "
        "scenario runs at each (instead of --interval-ms)",
    )
    p.add_argument(
        "--interval-ms",
        type=parse_number(
            "the switch interval",
            "milliseconds",
            "ms",
            MIN_INTERVAL_MS,
            MAX_INTERVAL_MS,
            "5 or 0.5",
        ),
        default=None,
        metavar="MS",
        help="sys.setswitchinterval in milliseconds, 0.01 to 1000 (default: CPython's 5)",
    )
    p.add_argument(
        "--values",
        type=parse_choice("kind of values", VALUES),
        default="synchronized",
        help="multiprocessing.Value with its own lock (synchronized, the seed's) or without "
        "(raw); the interpreter scenarios need raw",
    )
    p.add_argument(
        "--io-us",
        "--io-op-us",
        dest="io_us",
        type=parse_number("the io operation", "microseconds", "us", MIN_IO_US, MAX_IO_US, "100"),
        default=DEFAULT_IO_US,
        metavar="US",
        help="the io victim's blocking call: time.sleep of this many microseconds "
        "(default: 100; --io-op-us is the old name)",
    )
    p.add_argument(
        "--period-ms",
        type=parse_number(
            "the period", "milliseconds", "ms", MIN_PERIOD_MS, MAX_PERIOD_MS, "10 or 100"
        ),
        default=DEFAULT_PERIOD_MS,
        metavar="MS",
        help="the latency victim's client sends a request every this many milliseconds "
        "(default: 10)",
    )
    add_common_options(p)
    opts = p.parse_args(argv)
    if opts.intervals is not None and opts.interval_ms is not None:
        p.error("--interval-ms and --intervals both set the switch interval; give only one of them")
    if opts.intervals is None:
        opts.intervals = [DEFAULT_INTERVAL_MS if opts.interval_ms is None else opts.interval_ms]
    opts.interval_ms = opts.intervals[0]
    interpreters = [sc for sc in opts.scenarios if sc.startswith("interpreter")]
    if interpreters and opts.values == "synchronized":
        p.error(
            f"the scenario '{interpreters[0]}' shares the flag and the counter with a "
            "subinterpreter through plain shared memory (a multiprocessing lock cannot cross into "
            "another interpreter); add --values raw"
        )
    shared = opts.interpreter_gil == "shared" and shared_gil_trap()
    if interpreters and shared and opts.victim == "incrementer":
        p.error(f"the incrementer in '{interpreters[0]}' with --interpreter-gil shared would "
                f"never let the controller stop it ({SHARED_GIL_TRAP}); choose --victim io, "
                "latency or server")
    return opts


def parse_scale_args(argv):
    p = Parser(
        prog=f"{os.path.basename(sys.argv[0] or 'gil_experiment.py')} scale",
        description="ccbench's throughput test on real CPython: N workers run the load's "
        "operations as fast as they can; total throughput against one worker of the same mode.",
    )
    p.add_argument(
        "--workers",
        type=parse_counts("worker count", "workers", MIN_WORKERS, MAX_WORKERS, "1,2,4"),
        default=[1, 2, 4],
        metavar="LIST",
        help="worker counts, comma-separated, 1 to 32; 1 is always run (default: 1,2,4)",
    )
    p.add_argument(
        "--modes",
        type=parse_names("mode", SCALE_MODES, "thread,process"),
        default=list(SCALE_MODES),
        metavar="LIST",
        help=f"modes, comma-separated, from: {', '.join(SCALE_MODES)} (default: all; "
        "interpreter and free-thread are skipped, with a message, where this Python lacks them)",
    )
    p.add_argument(
        "--load",
        type=parse_choice("load", LOADS),
        default="short",
        help="what each worker repeats: short (operations of --op-us that hold the GIL), bignum "
        "(z = z * z) or release (hashlib.sha256, which drops the GIL) (default: short)",
    )
    p.add_argument(
        "--seconds",
        type=parse_number("the run length", "seconds", "s", MIN_SECONDS, MAX_SECONDS, "2"),
        default=DEFAULT_SCALE_SECONDS,
        metavar="S",
        help="how long each run lasts (default: 2)",
    )
    p.add_argument(
        "--interval-ms",
        type=parse_number(
            "the switch interval", "milliseconds", "ms", MIN_INTERVAL_MS, MAX_INTERVAL_MS, "5"
        ),
        default=DEFAULT_INTERVAL_MS,
        metavar="MS",
        help="sys.setswitchinterval in milliseconds (default: CPython's 5)",
    )
    add_common_options(p)
    opts = p.parse_args(argv)
    shared = opts.interpreter_gil == "shared" and shared_gil_trap()
    if "interpreter" in opts.modes and shared and opts.load != "release":
        p.error(f"the {opts.load} load in subinterpreters with --interpreter-gil shared would "
                f"never let the controller stop it ({SHARED_GIL_TRAP}); use --load release, "
                "which drops the GIL")
    if 1 not in opts.workers:
        opts.workers.insert(0, 1)
    return opts


def prepare_load(opts, needed: bool) -> None:
    """Calibrates the short operation and makes the release load's data, when a run needs them."""
    opts.short_op_items = None
    opts.release_data = None
    opts.load_arg = opts.bignum_cap_bits
    if not needed:
        return
    if opts.load == "short":
        opts.short_op_items, op_s = short_op_size(opts.op_us / 1e6)
        opts.load_arg = opts.short_op_items
        progress(opts, f"short operation: sum(range({opts.short_op_items})), {op_s * 1e6:.2f} us")
    elif opts.load == "release":
        try:
            opts.release_data = bytes(opts.release_op_bytes)
        except MemoryError:
            raise RunError(
                f"no memory for the release load's {opts.release_op_bytes:,} bytes; "
                "give a smaller --release-op-bytes"
            ) from None
        opts.load_arg = opts.release_data


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = "scale" if argv[:1] == ["scale"] else "sweep"
    opts = parse_scale_args(argv[1:]) if command == "scale" else parse_args(argv)
    opts.subs = None
    previous_interval_s = sys.getswitchinterval()
    # SIGTERM unwinds like Ctrl-C, through the finally blocks that stop the children.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if command == "scale":
            prepare_load(opts, True)
            opts.release_data = None  # each worker makes its own
            report = scale(opts)
        else:
            prepare_load(opts, any(sc.endswith("+load") for sc in opts.scenarios))
            report = sweep(opts)
    except RunError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        sys.setswitchinterval(previous_interval_s)
    if opts.format == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif command == "scale":
        sys.stdout.write(render_scale_table(report))
    else:
        sys.stdout.write(render_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
