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
  length (``--short-op-us``): see ``short_op_size``. The first 64 operations are timed (``op_s``).

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
LOADS = ("bignum", "short")
VALUES = ("synchronized", "raw")
FORMATS = ("table", "json")

DEFAULT_DELAYS = "0,1,2,3,4,5,6,7,8,9"
DEFAULT_INTERVAL_MS = 5.0
DEFAULT_BIGNUM_CAP_BITS = 80_000_000
DEFAULT_SHORT_OP_US = 5.0

MAX_DELAY_S = 3600.0
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 0.01, 1000.0
MIN_CAP_BITS, MAX_CAP_BITS = 64, 1_000_000_000
MIN_SHORT_OP_US, MAX_SHORT_OP_US = 1.0, 1_000_000.0

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


def incrementer_process(shared: Shared, interval_s: float) -> None:
    """The body of the incrementer process: an interpreter (and a GIL) of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # undo the parent's handler, inherited by fork
    die_with_parent()
    sys.setswitchinterval(interval_s)
    incrementer(shared)


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


def run_one(ctx, opts, scenario: str, delay_s: float) -> dict:
    """Runs one scenario for one delay and returns its result, as gil-lab's ``RunResult``."""
    isolated = scenario.startswith("process")
    has_load = scenario.endswith("+load")
    shared = Shared(ctx, opts.values)
    threads = []
    process = None
    load_report = LoadReport() if has_load else None
    try:
        # The incrementer first, so a forked child copies a parent with one thread only.
        if isolated:
            process = ctx.Process(
                target=incrementer_process,
                args=(shared, sys.getswitchinterval()),
                name="incrementer",
                daemon=True,
            )
            process.start()
        else:
            threads.append(Worker("incrementer", incrementer, shared))
        if has_load:
            if opts.load == "bignum":
                threads.append(
                    Worker("load", bignum_load, shared, load_report, opts.bignum_cap_bits)
                )
            else:
                threads.append(Worker("load", short_load, shared, load_report, opts.short_op_items))
        for t in threads:
            t.start()

        wait_until_ready(shared, len(threads) + (1 if isolated else 0), process, scenario)
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
                raise RunError(f"the incrementer process did not stop within {STOP_TIMEOUT_S:g} s")
            if process.exitcode != 0:
                raise RunError(f"the incrementer process {how_it_ended(process)}")
    finally:
        stop_everything(shared, threads, process)

    count = shared.counter.value
    elapsed_s = shared.elapsed.value
    return {
        "scenario": scenario,
        "delay_s": delay_s,
        "count": count,
        "elapsed_s": elapsed_s,
        "stop_lag_s": stop_lag_s,
        "rate_per_s": count / elapsed_s if elapsed_s > 0 else 0.0,
        "switches": None,
        "workers": [],
        "load": load_report.to_json() if load_report else None,
    }


def wait_until_ready(shared: Shared, workers: int, process, scenario: str) -> None:
    """The start barrier: returns once every worker has signalled ``ready``."""
    deadline = perf_counter() + START_TIMEOUT_S
    arrived = 0
    while arrived < workers:
        if shared.ready.acquire(timeout=0.1):
            arrived += 1
        elif process is not None and not process.is_alive():
            raise RunError(f"the incrementer process {how_it_ended(process)} before it started")
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
    """Every scenario at every delay, in gil-lab's order: for each delay, each scenario."""
    ctx = multiprocessing.get_context(opts.start_method)
    config = {
        "load": opts.load,
        "switch_interval_ms": opts.interval_ms,
        "delays": opts.delays,
        "scenarios": opts.scenarios,
        "values": opts.values,
        "start_method": opts.start_method,
        "bignum_cap_bits": opts.bignum_cap_bits,
        "short_op_us": opts.short_op_us,
        "short_op_items": opts.short_op_items,
        "python": python_info(),
    }
    runs = [(d, sc) for d in opts.delays for sc in opts.scenarios]
    results = []
    for i, (delay_s, scenario) in enumerate(runs, 1):
        progress(opts, f"[{i}/{len(runs)}] {scenario} at {delay_s:g} s ...")
        try:
            result = run_one(ctx, opts, scenario, delay_s)
        except RunError as e:
            raise RunError(f"{scenario} at {delay_s:g} s: {e}") from None
        progress(opts, f"    count {result['count']:,}, stop lag {result['stop_lag_s']:.3f} s")
        results.append(result)
    return {"config": config, "results": results}


def progress(opts, line: str) -> None:
    if not opts.quiet:
        print(line, file=sys.stderr, flush=True)


def render_table(report: dict) -> str:
    """The seed's table, laid out as ``gil-lab sweep --format table``: one row per delay."""
    config = report["config"]
    counts = {}
    for r in report["results"]:
        counts.setdefault((r["delay_s"], r["scenario"]), f"{r['count']:,}")
    rows = [["delay_s"] + config["scenarios"]]
    for d in config["delays"]:
        rows.append([f"{d:g}"] + [counts.get((d, sc), "-") for sc in config["scenarios"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]

    lags = []
    for sc in config["scenarios"]:
        of_sc = [r["stop_lag_s"] for r in report["results"] if r["scenario"] == sc]
        if of_sc:
            lags.append(f"{sc} {max(of_sc):.3f} s")
    python = config["python"]
    return (
        "\n".join(
            lines
            + ["", "stop lag (max): " + ", ".join(lags)]
            + [
                f"{python['implementation']} {python['version']}, {config['load']} load, "
                f"switch interval {config['switch_interval_ms']:g} ms, {config['values']} values"
            ]
        )
        + "\n"
    )


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
        "--load",
        type=parse_choice("load", LOADS),
        default="bignum",
        help="bignum (the seed's z = z * z) or short (operations of --short-op-us)",
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
        default=DEFAULT_INTERVAL_MS,
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
            "the bignum cap", "bits", "bits", MIN_CAP_BITS, MAX_CAP_BITS, "80000000", whole=True
        ),
        default=DEFAULT_BIGNUM_CAP_BITS,
        metavar="BITS",
        help="z restarts from 10 once it has more bits than this (default: 80000000)",
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
        "--format",
        type=parse_choice("format", FORMATS),
        default="table",
        help="table (the seed's) or json (as gil-lab sweep --format json)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    return p.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    sys.setswitchinterval(opts.interval_ms / 1000)
    # SIGTERM unwinds like Ctrl-C, through the finally blocks that stop the children.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    opts.short_op_items = None
    try:
        if opts.load == "short" and any(sc.endswith("+load") for sc in opts.scenarios):
            opts.short_op_items, op_s = short_op_size(opts.short_op_us / 1e6)
            progress(
                opts, f"short operation: sum(range({opts.short_op_items})), {op_s * 1e6:.2f} us"
            )
        report = sweep(opts)
    except RunError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if opts.format == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(render_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
