#!/usr/bin/env python3
"""The seed's experiment on real CPython: the reference gil-lab's emulation is compared with.

An incrementer counts as fast as it can, in a thread or in a process, while a load thread of the
parent squares an ever-growing integer (``z = z * z``). CPython switches threads only between
bytecodes, and one multiplication is one bytecode: the incrementer thread starves, the incrementer
process (its own interpreter, its own GIL) does not.

This script runs gil-lab's scenarios with the same semantics as its runner (``src/runner.rs``) and
prints the same JSON as ``gil-lab sweep --format json`` (``--format table`` prints the seed's
table). Standard library only; Python 3.8 or later.

    python3 reference/gil_experiment.py --delays 0,1,2 --load bignum --format json

What one run does, for one scenario and one delay:

* The main thread is the controller. It starts the incrementer (a ``threading.Thread`` or a
  ``multiprocessing.Process``) and, for the ``+load`` scenarios, the load (always a thread of the
  parent). Every worker signals ``ready`` and then waits on ``go``, so all counts are measured from
  the same moment.
* The incrementer: ``x = 0; while running.value: counter.value = x; x += 1``. Its count is
  ``counter.value`` after it has ended; ``elapsed_s`` is from ``go`` to its exit, measured by the
  incrementer itself (in the child, for a process, and handed back through a shared value).
* The controller sleeps ``delay`` (one ``time.sleep``, which releases the GIL), then clears
  ``running``. To do so it must take the GIL back, and a load thread in the middle of a
  multiplication holds it until that multiplication ends: the stop is late. The GIL is not fair,
  so with three threads waiting for it the load sometimes gets it back first and starts another,
  longer, multiplication. ``stop_lag_s`` is the time from the planned wake-up to
  ``running.value = False`` having been executed.
* Loads: ``bignum`` is the seed's ``z = 10; while running.value: z = z * z``, restarting from 10
  once ``z`` has more than ``--bignum-cap-bits`` bits. ``short`` repeats one operation of a fixed
  length (``--short-op-us``): see ``short_op_size``. Both hold the GIL for a whole operation.
  ``release`` is C code that drops it: ``hashlib.sha256`` of ``--release-op-bytes`` (8 MiB).
  The first 64 operations are timed (``op_s``).
* Victims (``--victim``): ``incrementer`` is the seed's counting loop above, always wanting the
  GIL. ``io`` spends most of its time in a blocking call that releases it (``time.sleep`` of
  ``--io-op-us``, 100 us) and counts operations: when does a thread that waits on I/O suffer
  beside a load? In a process scenario the victim, either one, is the child.
* ``--intervals`` repeats the whole sweep at each switch interval (``sys.setswitchinterval`` in
  the parent and in the child); each result records its ``switch_interval_ms`` and ``victim``.

The shared counter and flag are ``multiprocessing.Value`` objects, for threads and processes alike,
as in the seed. ``--values synchronized`` (the default, and the seed's choice) gives each its own
lock: every ``.value`` read or write acquires and releases a process-shared ``RLock``. ``--values
raw`` uses ``lock=False``: plain shared memory. The locks make the incrementer four to five
times slower, and ``running``'s lock is shared with the load thread (which reads the flag before
each operation) and, in the ``process`` scenarios, across the process boundary: with the
``short`` load, threads contend for it as well as for the GIL. The ``bignum`` load reads the flag
only a few dozen times per run. The JSON records the choice in ``config.values``.

Not measured, unlike in gil-lab: lock statistics (CPython does not expose them), so every result
has ``"switches": null`` and ``"workers": []``.

Ctrl-C stops the sweep and its children. Like the stop itself, it can be late by up to one
multiplication: the main thread handles the signal only once it holds the GIL again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import platform
import signal
import sys
import threading
import time
from time import perf_counter

SCENARIOS = ("thread", "process", "thread+load", "process+load")
LOADS = ("bignum", "short", "release")
VICTIMS = ("incrementer", "io")
VALUES = ("synchronized", "raw")
FORMATS = ("table", "json")

DEFAULT_DELAYS = "0,1,2,3,4,5,6,7,8,9"
DEFAULT_INTERVAL_MS = 5.0
DEFAULT_BIGNUM_CAP_BITS = 20_000_000
DEFAULT_SHORT_OP_US = 5.0
DEFAULT_IO_OP_US = 100.0
DEFAULT_RELEASE_OP_BYTES = 8 * 1024 * 1024

MAX_DELAY_S = 3600.0
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 0.01, 1000.0
MIN_CAP_BITS, MAX_CAP_BITS = 64, 1_000_000_000
MIN_SHORT_OP_US, MAX_SHORT_OP_US = 1.0, 1_000_000.0
MIN_IO_OP_US, MAX_IO_OP_US = 0.0, 1_000_000.0
# hashlib drops the GIL only around data of at least HASHLIB_GIL_MINSIZE (2048) bytes; below
# that a hash is one operation that holds the GIL, like the short load's.
MIN_RELEASE_OP_BYTES, MAX_RELEASE_OP_BYTES = 2048, 1024 * 1024 * 1024

MAX_TIMED_OPS = 64  # like gil-lab's LoadReport::MAX_TIMED_OPS
START_TIMEOUT_S = 30.0  # how long workers may take to reach the start barrier
STOP_TIMEOUT_S = 30.0  # how long the incrementer may take to exit once the flag is cleared


class RunError(Exception):
    """A run that could not complete; the message says why."""


# --- The workloads ----------------------------------------------------------------------------


class Shared:
    """The shared state of one run: the seed's flag and counter, plus the start barrier.

    ``running`` and ``counter`` are ``multiprocessing.Value`` objects with their own lock
    (``synchronized``) or without (``raw``). ``elapsed`` carries the incrementer's own timing back
    to the controller (written once, so it needs no lock).
    """

    def __init__(self, ctx, values: str) -> None:
        synchronized = values == "synchronized"
        self.running = ctx.Value("b", True, lock=synchronized)
        self.counter = ctx.Value("q", 0, lock=synchronized)
        self.elapsed = ctx.Value("d", 0.0, lock=False)
        self.ready = ctx.Semaphore(0)
        self.go = ctx.Event()


def incrementer(shared: Shared) -> None:
    """The seed's incrementer, between the start barrier and the report of its own elapsed time."""
    running, counter = shared.running, shared.counter
    shared.ready.release()
    shared.go.wait()
    started = perf_counter()
    x = 0
    while running.value:
        counter.value = x
        x += 1
    shared.elapsed.value = perf_counter() - started


def io_victim(shared: Shared, io_op_s: float) -> None:
    """A thread that mostly waits: one short blocking call per operation, then a count.

    ``time.sleep`` stands for any blocking system call (a socket read, a disk write): CPython
    drops the GIL around it, and must take the GIL back before the next bytecode. Alone, an
    operation lasts the call plus a few microseconds. Beside a thread that holds the GIL, every
    wake-up waits for it: up to one switch interval, after which the holder is asked to drop
    (the convoy effect), or until a long operation in C ends.
    """
    running, counter = shared.running, shared.counter
    shared.ready.release()
    shared.go.wait()
    started = perf_counter()
    x = 0
    while running.value:
        time.sleep(io_op_s)
        x += 1
        counter.value = x
    shared.elapsed.value = perf_counter() - started


def victim(shared: Shared, kind: str, io_op_s: float) -> None:
    """Runs the victim chosen by ``--victim``: the thread (or process) whose count is reported."""
    if kind == "io":
        io_victim(shared, io_op_s)
    else:
        incrementer(shared)


def victim_process(shared: Shared, interval_s: float, kind: str, io_op_s: float) -> None:
    """The body of the victim's process: an interpreter (and a GIL) of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # undo the parent's handler, inherited by fork
    die_with_parent()
    sys.setswitchinterval(interval_s)
    victim(shared, kind, io_op_s)


def die_with_parent() -> None:
    """Linux only, best effort: the kernel kills this process if its parent dies, even by SIGKILL.

    The parent terminates its children on every exit it can see (``finally`` blocks, Ctrl-C,
    SIGTERM); this covers the one it cannot, so no incrementer is left counting forever.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):
        pass


class LoadReport:
    """What the load did: as gil-lab's ``LoadReport`` (``ops``, ``restarts``, ``op_s``)."""

    def __init__(self) -> None:
        self.ops = 0
        self.restarts = 0
        self.op_s: list = []

    def op_done(self, seconds: float) -> None:
        self.ops += 1
        if len(self.op_s) < MAX_TIMED_OPS:
            self.op_s.append(seconds)

    def to_json(self) -> dict:
        return {"ops": self.ops, "restarts": self.restarts, "op_s": self.op_s}


def bignum_load(shared: Shared, report: LoadReport, cap_bits: int) -> None:
    """The seed's load: ``z = z * z``, one multiplication per operation, never interrupted.

    Step k squares ``10 ** (2 ** k)``, about 3.3 * 2**k bits; CPython multiplies numbers this
    large with Karatsuba, so each step takes about three times as long as the one before.
    """
    running = shared.running
    shared.ready.release()
    shared.go.wait()
    z = 10
    while running.value:
        started = perf_counter()
        z = z * z
        report.op_done(perf_counter() - started)
        if z.bit_length() > cap_bits:
            z = 10
            report.restarts += 1


def short_load(shared: Shared, report: LoadReport, items: int) -> None:
    """Operations of a fixed length: one ``sum(range(items))`` each (see ``short_op_size``)."""
    running = shared.running
    shared.ready.release()
    shared.go.wait()
    while running.value:
        started = perf_counter()
        sum(range(items))
        report.op_done(perf_counter() - started)


def release_load(shared: Shared, report: LoadReport, data: bytes) -> None:
    """C code that drops the GIL: one ``hashlib.sha256(data).digest()`` per operation.

    For data of 2048 bytes or more, hashlib hashes with the GIL released
    (``Py_BEGIN_ALLOW_THREADS`` around the hash itself), so other threads run while it computes.
    It still needs the GIL to start and to return: after each hash it waits for the GIL like any
    other thread. SHA-256 costs the same whatever the bytes are, so ``data`` is zeros.
    """
    running = shared.running
    shared.ready.release()
    shared.go.wait()
    while running.value:
        started = perf_counter()
        hashlib.sha256(data).digest()
        report.op_done(perf_counter() - started)


def short_op_size(op_s: float) -> tuple:
    """How many items make ``sum(range(items))`` last ``op_s`` on this machine, and its time.

    A short operation must be one uninterruptible operation, as a multiplication is: a loop of
    Python bytecodes (e.g. busy-waiting on ``perf_counter``) could be switched out anywhere, so
    the GIL's switch interval would cut it up. ``sum(range(n))`` is a single call into C that
    never releases the GIL and never returns to the eval loop, and its cost grows linearly with
    ``n``, so it is calibrated in a few steps. The best of several timings is kept, so a busy
    machine lengthens the operations rather than shortening them.
    """

    def seconds_per_call(items: int) -> float:
        calls = max(1, int(0.005 / max(op_s, 1e-7)))
        best = math.inf
        for _ in range(7):
            started = perf_counter()
            for _ in range(calls):
                sum(range(items))
            best = min(best, (perf_counter() - started) / calls)
        return best

    items = 100
    for _ in range(4):
        items = max(1, round(items * op_s / seconds_per_call(items)))
    return items, seconds_per_call(items)


# --- One run: the controller ------------------------------------------------------------------


class Worker(threading.Thread):
    """A daemon thread that keeps the exception its target raised, if any."""

    def __init__(self, name: str, target, *args) -> None:
        super().__init__(name=name, daemon=True)
        self._work = (target, args)
        self.error = None

    def run(self) -> None:
        target, args = self._work
        try:
            target(*args)
        except BaseException as e:  # reported by the controller, which owns the run
            self.error = e


def run_one(ctx, opts, scenario: str, delay_s: float, interval_ms: float) -> dict:
    """Runs one scenario for one delay and returns its result, as gil-lab's ``RunResult``.

    ``interval_ms`` is the switch interval the caller has set in this process with
    ``sys.setswitchinterval``; a child process sets the same in its own interpreter.
    """
    isolated = scenario.startswith("process")
    has_load = scenario.endswith("+load")
    shared = Shared(ctx, opts.values)
    threads = []
    process = None
    load_report = LoadReport() if has_load else None
    try:
        # The victim first, so a forked child copies a parent with one thread only.
        io_op_s = opts.io_op_us / 1e6
        if isolated:
            process = ctx.Process(
                target=victim_process,
                args=(shared, interval_ms / 1000, opts.victim, io_op_s),
                name=opts.victim,
                daemon=True,
            )
            process.start()
        else:
            threads.append(Worker(opts.victim, victim, shared, opts.victim, io_op_s))
        if has_load:
            if opts.load == "bignum":
                threads.append(
                    Worker("load", bignum_load, shared, load_report, opts.bignum_cap_bits)
                )
            elif opts.load == "release":
                threads.append(Worker("load", release_load, shared, load_report, opts.release_data))
            else:
                threads.append(Worker("load", short_load, shared, load_report, opts.short_op_items))
        for t in threads:
            t.start()

        wait_until_ready(shared, len(threads) + (1 if isolated else 0), process, scenario, opts)
        wake_at = perf_counter() + delay_s
        shared.go.set()
        # sleep() releases the GIL. The OS wakes us at wake_at, but sleep() returns only once it
        # has the GIL back, and only then can the flag be cleared: the late stop.
        now = perf_counter()
        wake_at = max(wake_at, now)
        time.sleep(wake_at - now)
        shared.running.value = False
        stop_lag_s = perf_counter() - wake_at

        for t in threads:
            t.join()
            if t.error is not None:
                raise RunError(f"the {t.name} thread failed: {t.error!r}")
        if process is not None:
            process.join(STOP_TIMEOUT_S)
            if process.exitcode is None:
                raise RunError(
                    f"the {opts.victim} process did not stop within {STOP_TIMEOUT_S:g} s"
                )
            if process.exitcode != 0:
                raise RunError(f"the {opts.victim} process {how_it_ended(process)}")
    finally:
        stop_everything(shared, threads, process)

    count = shared.counter.value
    elapsed_s = shared.elapsed.value
    return {
        "scenario": scenario,
        "delay_s": delay_s,
        "switch_interval_ms": interval_ms,
        "victim": opts.victim,
        "count": count,
        "elapsed_s": elapsed_s,
        "stop_lag_s": stop_lag_s,
        "rate_per_s": count / elapsed_s if elapsed_s > 0 else 0.0,
        "switches": None,
        "workers": [],
        "load": load_report.to_json() if load_report else None,
    }


def wait_until_ready(shared: Shared, workers: int, process, scenario: str, opts) -> None:
    """The start barrier: returns once every worker has signalled ``ready``."""
    deadline = perf_counter() + START_TIMEOUT_S
    arrived = 0
    while arrived < workers:
        if shared.ready.acquire(timeout=0.1):
            arrived += 1
        elif process is not None and not process.is_alive():
            raise RunError(f"the {opts.victim} process {how_it_ended(process)} before it started")
        elif perf_counter() > deadline:
            raise RunError(
                f"the workers of '{scenario}' did not start within {START_TIMEOUT_S:g} s"
            )


def how_it_ended(process) -> str:
    code = process.exitcode
    return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"


def stop_everything(shared: Shared, threads: list, process) -> None:
    """Clears the flag, lets waiting workers through, and ends the child: no orphan on any path.

    After a normal run there is nothing left to do. After a failure or Ctrl-C, the flag is
    written without its lock (a child killed while holding it would block us forever), and the
    threads are not waited for long: they are daemons, and a load thread in the middle of a
    multiplication holds the GIL until it ends anyway.
    """
    running = shared.running
    (running.get_obj() if hasattr(running, "get_obj") else running).value = False
    shared.go.set()  # workers still at the barrier must get through to see the flag and leave
    if process is not None:
        process.join(1.0)
        if process.is_alive():
            process.terminate()
            process.join()
    for t in threads:
        t.join(1.0)


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


def sweep(opts) -> dict:
    """Every scenario at every delay, in gil-lab's order (for each delay, each scenario), once
    for each switch interval."""
    ctx = multiprocessing.get_context(opts.start_method)
    intervals = opts.intervals
    config = {
        "load": opts.load,
        # One interval, as gil-lab's config has; null when --intervals gives several.
        "switch_interval_ms": intervals[0] if len(intervals) == 1 else None,
        "switch_intervals_ms": intervals,
        "delays": opts.delays,
        "scenarios": opts.scenarios,
        "victim": opts.victim,
        "io_op_us": opts.io_op_us,
        "values": opts.values,
        "start_method": opts.start_method,
        "bignum_cap_bits": opts.bignum_cap_bits,
        "short_op_us": opts.short_op_us,
        "short_op_items": opts.short_op_items,
        "release_op_bytes": opts.release_op_bytes,
        "release_op": f"hashlib.sha256 ({getattr(hashlib.sha256, '__name__', '?')})",
        "python": python_info(),
    }
    runs = [(ms, d, sc) for ms in intervals for d in opts.delays for sc in opts.scenarios]
    results = []
    for i, (interval_ms, delay_s, scenario) in enumerate(runs, 1):
        where = f"{scenario} at {delay_s:g} s" + (
            f", interval {interval_ms:g} ms" if len(intervals) > 1 else ""
        )
        progress(opts, f"[{i}/{len(runs)}] {where} ...")
        sys.setswitchinterval(interval_ms / 1000)
        try:
            result = run_one(ctx, opts, scenario, delay_s, interval_ms)
        except RunError as e:
            raise RunError(f"{where}: {e}") from None
        progress(opts, f"    count {result['count']:,}, stop lag {result['stop_lag_s']:.3f} s")
        results.append(result)
    return {"config": config, "results": results}


def progress(opts, line: str) -> None:
    if not opts.quiet:
        print(line, file=sys.stderr, flush=True)


def render_table(report: dict) -> str:
    """The seed's table, laid out as ``gil-lab sweep --format table``: one row per delay, and per
    switch interval when there are several (a first column ``interval_ms``)."""
    config = report["config"]
    intervals = config["switch_intervals_ms"]
    several = len(intervals) > 1
    counts = {}
    for r in report["results"]:
        key = (r["switch_interval_ms"], r["delay_s"], r["scenario"])
        counts.setdefault(key, f"{r['count']:,}")
    rows = [(["interval_ms"] if several else []) + ["delay_s"] + config["scenarios"]]
    for ms in intervals:
        for d in config["delays"]:
            cells = [counts.get((ms, d, sc), "-") for sc in config["scenarios"]]
            rows.append(([f"{ms:g}"] if several else []) + [f"{d:g}"] + cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]

    lags = []
    for sc in config["scenarios"]:
        of_sc = [r["stop_lag_s"] for r in report["results"] if r["scenario"] == sc]
        if of_sc:
            lags.append(f"{sc} {max(of_sc):.3f} s")
    python = config["python"]
    what = "operations of the io victim" if config["victim"] == "io" else "incrementer counts"
    interval = ", ".join(f"{ms:g}" for ms in intervals)
    footer = (
        f"{python['implementation']} {python['version']}, {what}, {config['load']} load, "
        f"switch interval{'s' if several else ''} {interval} ms, {config['values']} values"
    )
    return "\n".join(lines + ["", "stop lag (max): " + ", ".join(lags), footer]) + "\n"


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


def parse_scenarios(text: str) -> list:
    scenarios = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            raise argparse.ArgumentTypeError(
                f"the scenario list '{text}' has an empty entry; "
                "give names separated by commas, e.g. thread,thread+load"
            )
        if name.startswith("free-thread"):
            raise argparse.ArgumentTypeError(
                f"'{name}' is gil-lab's emulation of a free-threaded CPython; here, run "
                f"'{name[len('free-'):]}' with a free-threaded interpreter such as python3.13t"
            )
        if name not in SCENARIOS:
            raise argparse.ArgumentTypeError(
                f"unknown scenario '{name}'; use one or more of: {', '.join(SCENARIOS)}"
            )
        if name not in scenarios:
            scenarios.append(name)
    return scenarios


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


def parse_args(argv=None):
    default_start = (
        "fork" if sys.platform.startswith("linux") else multiprocessing.get_start_method()
    )
    p = Parser(
        description="The seed's GIL experiment on real CPython threads and processes: the "
        "reference for gil-lab. Prints the same JSON as `gil-lab sweep --format json`.",
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
        default=list(SCENARIOS),
        metavar="LIST",
        help=f"scenarios, comma-separated, from: {', '.join(SCENARIOS)} (default: all four)",
    )
    p.add_argument(
        "--victim",
        type=parse_choice("victim", VICTIMS),
        default="incrementer",
        help="what is counted: incrementer (the seed's counting loop) or io (one blocking call "
        "of --io-op-us per operation) (default: incrementer)",
    )
    p.add_argument(
        "--load",
        type=parse_choice("load", LOADS),
        default="bignum",
        help="bignum (the seed's z = z * z), short (operations of --short-op-us that hold the "
        "GIL) or release (hashlib.sha256 of --release-op-bytes, which drops the GIL)",
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
        help="multiprocessing.Value with its own lock (synchronized, the seed's) or without (raw)",
    )
    p.add_argument(
        "--start-method",
        type=parse_choice("start method", tuple(multiprocessing.get_all_start_methods())),
        default=default_start,
        help=f"how the incrementer process starts (default: {default_start})",
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
        "--short-op-us",
        type=parse_number(
            "the short operation", "microseconds", "us", MIN_SHORT_OP_US, MAX_SHORT_OP_US, "5"
        ),
        default=DEFAULT_SHORT_OP_US,
        metavar="US",
        help="length of one operation of the short load (default: 5)",
    )
    p.add_argument(
        "--io-op-us",
        type=parse_number(
            "the io operation", "microseconds", "us", MIN_IO_OP_US, MAX_IO_OP_US, "100"
        ),
        default=DEFAULT_IO_OP_US,
        metavar="US",
        help="the io victim's blocking call: time.sleep of this many microseconds (default: 100)",
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
    p.add_argument(
        "--format",
        type=parse_choice("format", FORMATS),
        default="table",
        help="table (the seed's) or json (as gil-lab sweep --format json)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    opts = p.parse_args(argv)
    if opts.intervals is not None and opts.interval_ms is not None:
        p.error("--interval-ms and --intervals both set the switch interval; give only one of them")
    if opts.intervals is None:
        opts.intervals = [DEFAULT_INTERVAL_MS if opts.interval_ms is None else opts.interval_ms]
    opts.interval_ms = opts.intervals[0]
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    previous_interval_s = sys.getswitchinterval()
    # SIGTERM unwinds like Ctrl-C, through the finally blocks that stop the children.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    opts.short_op_items = None
    opts.release_data = None
    has_load = any(sc.endswith("+load") for sc in opts.scenarios)
    try:
        if opts.load == "short" and has_load:
            opts.short_op_items, op_s = short_op_size(opts.short_op_us / 1e6)
            progress(
                opts, f"short operation: sum(range({opts.short_op_items})), {op_s * 1e6:.2f} us"
            )
        if opts.load == "release" and has_load:
            try:
                opts.release_data = bytes(opts.release_op_bytes)
            except MemoryError:
                raise RunError(
                    f"no memory for the release load's {opts.release_op_bytes:,} bytes; "
                    "give a smaller --release-op-bytes"
                ) from None
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
    else:
        sys.stdout.write(render_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
