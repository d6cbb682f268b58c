#!/usr/bin/env python3
"""Filter-chain benchmark: what a disk's filter chain costs through vdiskd's export.

One vdiskd serves four eager disks of one datastore (on a tgtd LUN), each through its own
export, differing only in their chain:

    none:       no `filters` key: the export presents the virtual disk itself
    empty:      filters = []: a FilteredBlockDevice with no filter
    inspection: filters = [{ name = "inspection" }]: histograms and the trace on every I/O
    qos:        filters = [{ name = "ioControl", ... }]: limits far above the load

iscsi-perf runs against each in turn, the order rotating every round so a shared machine's
noise hits all alike. The daemon's CPU (user + system from /proc/PID/stat) is sampled around
each run and reported per 100k I/Os with iscsi-perf's and tgtd's. Medians and the ratio of each
chain to `none` are printed as Markdown; --write-doc puts them into the "Filters" section of
a benchmarks file between markers.
"""
import argparse
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from bench_tgtd import Tgtd, free_port, write_marked_section

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_export", os.path.join(HERE, "bench-export.py"))
bench_export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_export)
run, iscsi_perf, per_100k, log = bench_export.run, bench_export.iscsi_perf, bench_export.per_100k, bench_export.log

IQN = "iqn.2026-11.org.vdiskd:bench-filters"
EXPORT_IQN = "iqn.2026-11.org.vdiskd:bench-filters-{}"
MIB = 1 << 20
BEGIN, END = "<!-- bench-filters:begin -->", "<!-- bench-filters:end -->"

CHAINS = [
    ("none", None, None),
    ("empty", "[]", 0.99),
    ("inspection", '[{ name = "inspection" }]', 0.97),
    ("qos", '[{ name = "ioControl", iops = 10000000, bps = 100000000000, iops_max = 20000000 }]', 0.97),
]
WORKLOADS = [
    ("4 KiB random read, QD32", True, 4096, 32),
    ("1 MiB sequential read, QD8", False, MIB, 8),
]


def config(workdir, portal, chains, ports):
    lines = [
        "[daemon]", 'log_level = "warning"', f'control_socket = "{workdir}/control.sock"', "",
        "[[target]]", 'name = "lun"', f'portal = "{portal}"', f'iqn = "{IQN}"', "lun = 1", "",
        "[[datastore]]", 'name = "ds"', 'target = "lun"', 'host_uuid = "0b6f3c1e-2a4d-4e8f-9c7b-5d1a3e6f8b20"', "",
    ]
    for name, filters, _ in chains:
        lines += ["[[disk]]", 'datastore = "ds"', f'name = "{name}"']
        if filters is not None:
            lines.append(f"filters = {filters}")
        lines.append("")
    for name, _, _ in chains:
        lines += ["[[export]]", f'name = "{name}"', f'iqn = "{EXPORT_IQN.format(name)}"',
                  f'listen = ["127.0.0.1:{ports[name]}"]', f'disks = ["ds/{name}"]', ""]
    return "\n".join(lines)


class Daemon:
    """vdiskd from a config in the work directory, stopped by its PID on every path."""

    def __init__(self, vdiskd, vdiskctl, workdir, text, exports, deadline=120):
        path = os.path.join(workdir, "vdiskd.toml")
        with open(path, "w") as f:
            f.write(text)
        self.proc = subprocess.Popen([vdiskd, "--config", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        socket = os.path.join(workdir, "control.sock")
        ends = time.monotonic() + deadline
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"vdiskd exited with {self.proc.returncode} while starting")
                out = subprocess.run([vdiskctl, "exports", "--json", "--socket", socket], capture_output=True, text=True)
                if out.returncode == 0 and out.stdout.count('"running"') >= exports:
                    return
                if time.monotonic() > ends:
                    raise RuntimeError(f"vdiskd's exports did not all serve within {deadline} s: {out.stdout[-300:]}")
                time.sleep(0.5)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vdiskctl", required=True)
    parser.add_argument("--vdiskd", required=True)
    parser.add_argument("--pairs", type=int, default=5, help="rounds per workload, each running every chain once (at least 3)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--disk-mib", type=int, default=512, help="size of each disk")
    parser.add_argument("--write-doc", metavar="FILE", help="put the result into FILE's Filters section")
    args = parser.parse_args()
    if args.pairs < 3:
        raise SystemExit("--pairs must be at least 3")
    for tool in ("tgtd", "tgtadm", "iscsi-perf"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run Scripts/install-deps")
    size = args.disk_mib * MIB
    started = datetime.now(timezone.utc)

    with tempfile.TemporaryDirectory(prefix="vdiskd-bench-filters.") as workdir:
        target = Tgtd(workdir, [(1, len(CHAINS) * size + 1024 * MIB, False)], IQN)
        daemon = None
        try:
            store = target.url(1)
            ctl = args.vdiskctl
            log("== setting up: datastore, four eager disks written in full")
            run([ctl, "datastore", "format", store, "--label", "bench", "--block-size", "1MiB"], 120)
            for name, _, _ in CHAINS:
                run([ctl, "disk", "create", store, name, "--size", size, "--eager"], 600)
                run([ctl, "disk", "bench", store, name, "--pattern", "seqwrite", "--bs", MIB, "--qd", 8,
                     "--seconds", 600, "--max-ios", size // MIB], 700)
            ports = {name: free_port() for name, _, _ in CHAINS}
            daemon = Daemon(args.vdiskd, ctl, workdir, config(workdir, f"127.0.0.1:{target.port}", CHAINS, ports), len(CHAINS))
            rows = []
            for workload, random, bs, qd in WORKLOADS:
                samples = {name: [] for name, _, _ in CHAINS}
                for round_ in range(args.pairs):
                    order = CHAINS[round_ % len(CHAINS):] + CHAINS[:round_ % len(CHAINS)]
                    for name, _, _ in order:
                        url = f"iscsi://127.0.0.1:{ports[name]}/{EXPORT_IQN.format(name)}/0"
                        samples[name].append(iscsi_perf(url, random, bs, qd, args.seconds,
                                                        {"daemonCPU": daemon.proc.pid, "tgtdCPU": target.proc.pid}))
                    log(f"{workload} round {round_ + 1}: " + ", ".join(
                        f"{name} {samples[name][-1]['iops']:.0f} IOPS" for name, _, _ in CHAINS))
                rows.append((workload, samples))
        finally:
            if daemon:
                daemon.stop()
            target.stop()

    report = render(args, started, rows)
    print(report)
    if args.write_doc:
        write_doc(args.write_doc, report)
        log(f"wrote the Filters section of {args.write_doc}")


def render(args, started, rows):
    median = lambda samples, f: statistics.median(f(s) for s in samples)
    lines = [
        f"Run of {started:%Y-%m-%d %H:%M} UTC, `Scripts/bench-filters --pairs {args.pairs} --seconds {args.seconds} "
        f"--disk-mib {args.disk_mib}`: {args.pairs} rounds of {args.seconds} s per chain, the order rotating each "
        "round; medians. Four eager disks of one datastore on one tgtd LUN, each behind its own export of one "
        "vdiskd. CPU columns are user + system seconds per 100k I/Os: \"vdiskd\" of the daemon, \"all\" of "
        "iscsi-perf, vdiskd and tgtd together.",
        "",
        "| workload | chain | IOPS | MB/s | vdiskd CPU/100k | all CPU/100k | chain/none | goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    spreads = []
    for workload, samples in rows:
        base = median(samples["none"], lambda s: s["iops"])
        for name, _, goal in CHAINS:
            s = samples[name]
            iops = median(s, lambda x: x["iops"])
            ratio = iops / base
            verdict = "-" if goal is None else f"≥ {goal:.2f} {'met' if ratio >= goal else '**not met**'}"
            lines.append(f"| {workload} | {name} | {iops:.0f} | {median(s, lambda x: x['mbs']):.1f} "
                         f"| {median(s, lambda x: per_100k(x, 'daemonCPU')):.2f} | {median(s, lambda x: per_100k(x, 'totalCPU')):.2f} "
                         f"| **{ratio:.3f}** | {verdict} |")
            if goal is not None:
                spread = ", ".join(f"{a['iops'] / b['iops']:.2f}" for a, b in zip(s, samples["none"]))
                spreads.append(f"{workload}, {name}: {spread}")
    lines += ["", "Per-round ratios to `none`, to show the spread: " + "; ".join(spreads) + "."]
    return "\n".join(lines)


def write_doc(path, report):
    """Replaces the text between the markers of the Filters section, or appends the section."""
    write_marked_section(path, report, BEGIN, END, (
        "## Filters\n\nWhat a disk's filter chain costs through vdiskd's export: no chain, an empty chain, "
        "inspection, and ioControl with limits far above the load (docs/FILTERS.md).\n"
        "Repeat with `Scripts/bench-filters` (options `--pairs N --seconds S --disk-mib M`).\n\n"))


if __name__ == "__main__":
    main()
