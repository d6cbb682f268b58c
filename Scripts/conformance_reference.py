#!/usr/bin/env python3
"""Runs named iscsi-test-cu tests against a private tgtd (a thin, file-backed 1 GiB LUN on
loopback) and scores each with tcu-score, so Scripts/conformance can show how another target
fares in the tests the export fails.

    conformance_reference.py TCU_SCORE TEST...      prints "TEST RESULT" lines: clean, skipped, failed

MultipathIO tests get the LUN's URL twice (two sessions, two initiator names), as the suite
needs two paths. tgtd is stopped again on every path.
"""
import os
import re
import subprocess
import sys
import tempfile

from bench_tgtd import Tgtd

IQN = "iqn.2026-11.org.vdiskd:conformance-reference"


def score(tcu_score, log_path):
    out = subprocess.run([sys.executable, tcu_score, log_path], capture_output=True, text=True).stdout
    # Its last line reads "tests N clean N skipped N failed N".
    counts = {name: int(count) for name, count in re.findall(r"(clean|skipped|failed) (\d+)", out)}
    if counts.get("failed", 0):
        return "failed"
    if counts.get("skipped", 0):
        return "skipped"
    return "clean" if counts.get("clean", 0) else "not run"


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    tcu_score, tests = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory(prefix="vdiskd-conformance-reference.") as workdir:
        target = Tgtd(workdir, [(1, 1 << 30, True)], IQN)
        try:
            url = target.url(1)
            for test in tests:
                urls = [url, url] if test.startswith("MultipathIO.") else [url]
                log_path = os.path.join(workdir, "test.log")
                with open(log_path, "w") as log:
                    subprocess.run(["timeout", "600", "iscsi-test-cu", "-d", "-t", f"ALL.{test}", *urls],
                                   stdout=log, stderr=subprocess.STDOUT)
                print(test, score(tcu_score, log_path), flush=True)
        finally:
            target.stop()


if __name__ == "__main__":
    main()
