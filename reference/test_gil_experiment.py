"""Fast checks of gil_experiment.py's command line and JSON (standard library only).

    python3 -m unittest discover -s reference -v

Each test runs the script as a user would, in a subprocess: bad arguments must end with one
sentence and exit status 2 before anything runs, and short runs (0.2 s) must print every field
gil-lab and its readers rely on. Nothing here asserts a speed; the GIL's effects are measured in
FIDELITY.md and checked against the emulation by tests/fidelity.rs.
"""

import json
import os
import subprocess
import sys
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gil_experiment.py")

# Fields every result row had before the io victim and the interval sweep; src/reference.rs
# reads the first five.
RESULT_FIELDS = {
    "scenario",
    "delay_s",
    "count",
    "elapsed_s",
    "stop_lag_s",
    "rate_per_s",
    "switches",
    "workers",
    "load",
}


def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, SCRIPT, *args],
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_json(*args: str) -> dict:
    done = run(*args, "--format", "json", "--quiet", "--values", "raw")
    if done.returncode != 0:
        raise AssertionError(f"exit status {done.returncode}: {done.stderr}")
    return json.loads(done.stdout)


class BadArguments(unittest.TestCase):
    """Each bad value: status 2, nothing on standard output, one sentence naming the problem."""

    def assert_refused(self, args: list, *expected: str) -> None:
        done = run(*args)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(done.stdout, "")
        first = done.stderr.splitlines()[0]
        self.assertTrue(first.startswith("error: "), first)
        self.assertNotIn("Traceback", done.stderr)
        for text in expected:
            self.assertIn(text, first)

    def test_unknown_victim_lists_the_victims(self):
        self.assert_refused(["--victim", "disk"], "unknown victim 'disk'", "incrementer, io")

    def test_unknown_load_lists_the_loads(self):
        self.assert_refused(["--load", "hash"], "unknown load 'hash'", "bignum, short, release")

    def test_an_interval_out_of_range_gives_the_range(self):
        self.assert_refused(["--intervals", "1,0,5"], "0 ms is out of range", "0.01 to 1,000 ms")

    def test_an_interval_that_is_not_a_number_is_named(self):
        self.assert_refused(["--intervals", "1,fast"], "'fast' is not a number of milliseconds")

    def test_an_empty_interval_list_or_entry_is_refused(self):
        self.assert_refused(["--intervals", ""], "interval list is empty")
        self.assert_refused(["--intervals", "1,,5"], "has an empty entry")

    def test_both_interval_options_are_refused(self):
        self.assert_refused(
            ["--intervals", "1,5", "--interval-ms", "5"], "--interval-ms and --intervals"
        )

    def test_the_io_operation_must_be_in_range(self):
        self.assert_refused(["--io-op-us", "-1"], "out of range", "0 to 1,000,000 us")
        self.assert_refused(["--io-op-us", "soon"], "not a number of microseconds")

    def test_a_release_operation_too_small_to_drop_the_gil_is_refused(self):
        self.assert_refused(["--release-op-bytes", "2047"], "out of range", "2,048")
        self.assert_refused(["--release-op-bytes", "1.5"], "not a whole number of bytes")


class Runs(unittest.TestCase):
    """Short real runs: the JSON has its fields and records what ran."""

    def test_io_victim_beside_the_release_load_reports_its_operations(self):
        report = run_json(
            "--victim",
            "io",
            "--load",
            "release",
            "--delays",
            "0.2",
            "--release-op-bytes",
            "65536",
            "--scenarios",
            "thread,thread+load,process",
        )
        config = report["config"]
        self.assertEqual(config["victim"], "io")
        self.assertEqual(config["load"], "release")
        self.assertEqual(config["io_op_us"], 100.0)
        self.assertEqual(config["release_op_bytes"], 65536)
        self.assertTrue(config["release_op"].startswith("hashlib.sha256"), config["release_op"])
        self.assertEqual(config["switch_interval_ms"], 5.0)
        self.assertEqual(config["switch_intervals_ms"], [5.0])
        rows = {r["scenario"]: r for r in report["results"]}
        self.assertEqual(set(rows), {"thread", "thread+load", "process"})
        for name, row in rows.items():
            self.assertTrue(RESULT_FIELDS <= set(row), f"{name}: {sorted(row)}")
            self.assertEqual(row["victim"], "io")
            self.assertEqual(row["switch_interval_ms"], 5.0)
            # An operation sleeps 100 us, so 0.2 s holds at most 2,000 of them: a count far
            # above that would be the incrementer's, not the io victim's.
            self.assertGreater(row["count"], 0, name)
            self.assertLessEqual(row["count"], 2_000, name)
        load = rows["thread+load"]["load"]
        self.assertGreater(load["ops"], 0)
        self.assertEqual(load["restarts"], 0)
        self.assertIsNone(rows["thread"]["load"])

    def test_intervals_run_every_scenario_at_each_interval_in_order(self):
        report = run_json("--intervals", "1,20", "--delays", "0", "--scenarios", "thread,process")
        self.assertIsNone(report["config"]["switch_interval_ms"])
        self.assertEqual(report["config"]["switch_intervals_ms"], [1.0, 20.0])
        got = [(r["switch_interval_ms"], r["scenario"]) for r in report["results"]]
        self.assertEqual(
            got, [(1.0, "thread"), (1.0, "process"), (20.0, "thread"), (20.0, "process")]
        )

    def test_interval_ms_and_the_default_victim_keep_their_meaning(self):
        report = run_json("--interval-ms", "2", "--delays", "0", "--scenarios", "thread")
        self.assertEqual(report["config"]["switch_interval_ms"], 2.0)
        self.assertEqual(report["config"]["victim"], "incrementer")
        (row,) = report["results"]
        self.assertEqual((row["victim"], row["switch_interval_ms"]), ("incrementer", 2.0))

    def test_the_table_has_an_interval_column_only_for_several_intervals(self):
        args = ["--delays", "0", "--scenarios", "thread", "--values", "raw", "-q"]
        one = run(*args)
        several = run(*args, "--intervals", "1,5")
        self.assertEqual((one.returncode, several.returncode), (0, 0), one.stderr + several.stderr)
        self.assertTrue(one.stdout.startswith("delay_s"), one.stdout)
        self.assertTrue(several.stdout.startswith("interval_ms"), several.stdout)
        self.assertIn("switch intervals 1, 5 ms", several.stdout)


if __name__ == "__main__":
    unittest.main()
