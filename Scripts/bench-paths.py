#!/usr/bin/env python3
"""Multipath benchmark on the path lab (vdiskd-testbed pathlab: a host namespace and a target
namespace joined by two veth links, tgtd listening on a portal per link).

    one path:   vdiskctl target bench URL0                       (the Paths layer is not used)
    two paths:  vdiskctl target bench URL0 --path URL1           (round robin, default switch)

Both run in the host namespace, alternating (one, two, one, two, ...) so the noise of a shared
machine hits both alike, for 4 KiB random reads at QD32 and 1 MiB sequential reads at QD8.
Medians of IOPS and MB/s, the ratio two/one, and CPU per I/O (vdiskctl's own, and tgtd's from
/proc/PID/stat) are printed as Markdown.

Failover: N runs of `vdiskctl target bench --verify` (4 KiB, QD32) over both paths with a 1 s
NOP interval and timeout; in each, one link (alternating) is taken down at the target's side
2 s in and brought back 4 s later. A run's longest I/O is that cut's stall; the median and the
maximum over the cuts are reported, and every run must end with no error and no miscompare.
--write-doc puts the result into the "Paths" section of a benchmarks file between markers.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

from bench_tgtd import write_marked_section

BEGIN, END = "<!-- bench-paths:begin -->", "<!-- bench-paths:end -->"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20
WORKLOADS = [
    ("4 KiB random read, QD32", "randread", "4k", 32),
    ("1 MiB sequential read, QD8", "seqread", "1M", 8),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Lab:
    """vdiskd-testbed pathlab as a child: the lab lives until its stdin closes."""

    def __init__(self, testbed, size):
        self.process = subprocess.Popen([testbed, "pathlab", "--size", str(size)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.links = []
        deadline = time.monotonic() + 120
        while len(self.links) < 2:
            line = self.process.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError("vdiskd-testbed pathlab did not come up")
            words = line.split()
            if words[0] == "hostns":
                self.host = words[1]
            elif words[0] == "targetns":
                self.target = words[1]
            elif words[0] == "pid":
                self.tgtd = int(words[1])
            elif words[0].startswith("link"):
                self.links.append({"host": words[1], "target": words[2], "url": words[3]})

    def run(self, command, timeout):
        out = subprocess.run(["ip", "netns", "exec", self.host] + command, capture_output=True, text=True, timeout=timeout)
        return out

    def link(self, index, up):
        subprocess.run(["ip", "-n", self.target, "link", "set", self.links[index]["target"], "up" if up else "down"], check=True)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def bench(lab, vdiskctl, urls, pattern, size, depth, seconds, extra=()):
    command = [vdiskctl, "target", "bench", "--json", "--pattern", pattern, "--bs", size, "--qd", str(depth),
               "--seconds", str(seconds), "--range", "256M", urls[0]]
    for url in urls[1:]:
        command += ["--path", url]
    before = cpu_seconds(lab.tgtd)
    out = lab.run(command + list(extra), timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"vdiskctl bench failed: {out.stderr.strip()[-400:]}")
    result = json.loads(out.stdout)
    result["tgtdCPU"] = cpu_seconds(lab.tgtd) - before
    return result


def throughput(lab, vdiskctl, rounds, seconds):
    urls = [link["url"] for link in lab.links]
    # Reads hit data: fill the range once.
    lab.run([vdiskctl, "target", "bench", "--pattern", "seqwrite", "--bs", "1M", "--qd", "8", "--range", "256M",
             "--max-ios", "256", "--seconds", "60", urls[0]], timeout=180)
    rows = []
    for name, pattern, size, depth in WORKLOADS:
        samples = {"one": [], "two": []}
        for round_ in range(rounds):
            for side, used in (("one", urls[:1]), ("two", urls)):
                result = bench(lab, vdiskctl, used, pattern, size, depth, seconds)
                samples[side].append(result)
                log(f"{name} round {round_ + 1} {side} path(s): {result['iops']:.0f} IOPS {result['mbPerSecond']:.1f} MB/s")
        rows.append((name, samples))
    return rows


def failover(lab, vdiskctl, cuts):
    urls = [link["url"] for link in lab.links]
    stalls = []
    for cut in range(cuts):
        link = cut % 2
        command = [vdiskctl, "target", "bench", "--verify", "--json", "--bs", "4k", "--qd", "32", "--seconds", "8",
                   "--range", "256M", urls[0], "--path", urls[1], "--nop-interval", "1", "--nop-timeout", "1",
                   "--probe-interval", "1", "--round-robin-ios", "16"]
        process = subprocess.Popen(["ip", "netns", "exec", lab.host] + command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        lab.link(link, False)
        time.sleep(4)
        lab.link(link, True)
        out, err = process.communicate(timeout=120)
        result = json.loads(out)
        if result["errors"] or result["miscompares"]:
            raise RuntimeError(f"cut {cut + 1}: {result['errors']} errors, {result['miscompares']} miscompares: {result['errorMessages']}")
        stalls.append(result["longestStallMilliseconds"])
        log(f"cut {cut + 1} (link {link}): longest I/O {result['longestStallMilliseconds']:.0f} ms")
    return stalls


def per_100k(results, key):
    ios = sum(r["ios"] for r in results)
    return 100_000 * sum(r[key] for r in results) / ios if ios else 0


def report(rows, stalls, rounds, seconds):
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `Scripts/bench-paths` (release build, {rounds} alternating rounds of "
        f"{seconds} s per side; path lab: two veth links between a host and a target namespace, tgtd on a portal per link). "
        "CPU is user + system seconds per 100k I/Os.",
        "",
        "| workload | one path | two paths, round robin | two / one | vdiskctl CPU one / two | tgtd CPU one / two |",
        "|---|---|---|---|---|---|",
    ]
    for name, samples in rows:
        one_iops = statistics.median(r["iops"] for r in samples["one"])
        two_iops = statistics.median(r["iops"] for r in samples["two"])
        one_mb = statistics.median(r["mbPerSecond"] for r in samples["one"])
        two_mb = statistics.median(r["mbPerSecond"] for r in samples["two"])
        lines.append(
            f"| {name} | {one_iops:,.0f} IOPS, {one_mb:.0f} MB/s | {two_iops:,.0f} IOPS, {two_mb:.0f} MB/s | {two_iops / one_iops:.2f} | "
            f"{per_100k(samples['one'], 'cpuSeconds'):.2f} / {per_100k(samples['two'], 'cpuSeconds'):.2f} | "
            f"{per_100k(samples['one'], 'tgtdCPU'):.2f} / {per_100k(samples['two'], 'tgtdCPU'):.2f} |"
        )
    if stalls:
        lines += [
            "",
            f"Failover: {len(stalls)} link cuts (alternating links, at the target's side) under a verified QD32 4 KiB load over both "
            f"paths, NOP interval and timeout 1 s: longest I/O per cut median {statistics.median(stalls) / 1000:.2f} s, "
            f"max {max(stalls) / 1000:.2f} s; no error, no miscompare.",
        ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vdiskctl", required=True)
    parser.add_argument("--testbed", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--write-doc")
    args = parser.parse_args()
    lab = Lab(args.testbed, 512 * MIB)
    try:
        rows = throughput(lab, args.vdiskctl, args.rounds, args.seconds)
        stalls = failover(lab, args.vdiskctl, args.cuts) if args.cuts else []
    finally:
        lab.close()
    text = report(rows, stalls, args.rounds, args.seconds)
    print(text)
    if args.write_doc:
        write_marked_section(args.write_doc, text, BEGIN, END, "## Paths\n\n")


if __name__ == "__main__":
    main()
