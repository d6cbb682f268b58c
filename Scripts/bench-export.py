#!/usr/bin/env python3
"""Export benchmark: libiscsi's iscsi-perf straight at tgtd against iscsi-perf through the export.

    direct:  iscsi-perf -> tgtd (a raw file-backed LUN)
    export:  iscsi-perf -> vdiskctl export serve DATASTORE DISK -> VirtualDisk (thin or eager,
             on a second LUN of the same tgtd) -> native initiator -> tgtd
    relay:   iscsi-perf -> tcp_relay.py (moves bytes and nothing else) -> tgtd, the raw LUN

The relay is the ceiling for any process between client and target on this machine: it
parses nothing and is pipelined, where the export must take each block in whole before it
answers (--relay none leaves it out).

Both LUNs are file-backed and written in full first, so every read hits data. Runs alternate
(export, relay, direct, export, relay, direct, ...) so the noise of a shared machine hits both alike. One
export process serves all rounds; its CPU and tgtd's (user + system from /proc/PID/stat) are
sampled around each run and, with iscsi-perf's own, reported per 100k I/Os. Medians of each side and the ratio export/direct are
printed as Markdown; --write-doc puts the result into the "Export" section of a benchmarks file
between markers, leaving the hand-written text around them alone.
"""
import argparse
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from bench_tgtd import Tgtd, free_port, write_marked_section

IQN = "iqn.2026-11.org.vdiskd:bench-export"
EXPORT_IQN = "iqn.2026-11.org.vdiskd:bench-export-served"
MIB = 1 << 20
GIB = 1 << 30
RAW_LUN, DATASTORE_LUN = 1, 2
BEGIN, END = "<!-- bench-export:begin -->", "<!-- bench-export:end -->"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

WORKLOADS = [
    ("4 KiB random read, QD32", True, 4096, 32, 0.70),
    ("1 MiB sequential read, QD8", False, MIB, 8, 0.85),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, timeout):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
    return out.stdout


def process_cpu(pid):
    """User + system seconds a running process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Export:
    """`vdiskctl export serve` on a free loopback port, stopped by its PID on every path."""

    def __init__(self, vdiskctl, store, disk, deadline=60):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [vdiskctl, "export", "serve", store, disk, "--listen", f"127.0.0.1:{self.port}", "--iqn", EXPORT_IQN],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            # The banner ends with the LUN line; the listeners are up once it is printed.
            banner = b""
            ends = time.monotonic() + deadline
            while b"\nlun 0 " not in banner:
                left = ends - time.monotonic()
                if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                    raise RuntimeError(f"export serve printed no banner within {deadline} s")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"export serve exited with {self.proc.wait()} before its banner")
                banner += chunk
        except BaseException:
            self.stop()
            raise

    def url(self):
        return f"iscsi://127.0.0.1:{self.port}/{EXPORT_IQN}/0"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Relay:
    """tcp_relay.py in front of tgtd's portal, on a free loopback port, stopped by its PID."""

    def __init__(self, mode, upstream_port):
        self.port = free_port()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_relay.py")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--listen", f"127.0.0.1:{self.port}", "--to", f"127.0.0.1:{upstream_port}",
             "--mode", mode], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not select.select([self.proc.stdout], [], [], 30)[0] or not self.proc.stdout.readline().startswith(b"listening"):
            self.stop()
            raise RuntimeError("tcp_relay.py did not start")

    def url(self, iqn, lun):
        return f"iscsi://127.0.0.1:{self.port}/{iqn}/{lun}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def iscsi_perf(url, random, bs, qd, seconds, watched):
    """One iscsi-perf run; returns a sample with IOPS, MB/s, I/Os, iscsi-perf's own CPU and
    the CPU each process in `watched` (name -> pid) used meanwhile."""
    cmd = ["iscsi-perf", "-m", qd, "-b", bs // 512, "-t", seconds, *(["-r"] if random else []), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    watched_before = {name: process_cpu(pid) for name, pid in watched.items()}
    text = run(cmd, seconds + 60)
    watched_after = {name: process_cpu(pid) for name, pid in watched.items()}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    averages = re.findall(r"iops average (\d+) \((\d+) MB/s\)", text)
    if not averages:
        raise RuntimeError(f"could not read iscsi-perf's output: {text[-300:]}")
    iops = float(averages[-1][0])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sample = {"iops": iops, "mbs": iops * bs / 1e6, "ios": iops * seconds, "perfCPU": cpu}
    for name in watched:
        sample[name] = watched_after[name] - watched_before[name]
    sample["totalCPU"] = cpu + sum(sample[name] for name in watched)
    return sample


def per_100k(sample, key):
    return sample[key] * 100_000 / max(1, sample["ios"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vdiskctl", required=True)
    parser.add_argument("--pairs", type=int, default=5, help="alternating rounds per workload (at least 3)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--disk", choices=("eager", "thin"), default="eager", help="the exported disk's kind")
    parser.add_argument("--disk-gib", type=int, default=1, help="size of the disk and of the raw LUN")
    parser.add_argument("--relay", choices=("splice", "copy", "none"), default="splice",
                        help="also measure a do-nothing TCP relay in front of the raw LUN")
    parser.add_argument("--write-doc", metavar="FILE", help="put the result into FILE's Export section")
    args = parser.parse_args()
    if args.pairs < 3:
        raise SystemExit("--pairs must be at least 3")
    for tool in ("tgtd", "tgtadm", "iscsi-perf"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run Scripts/install-deps")
    size = args.disk_gib * GIB
    started = datetime.now(timezone.utc)

    with tempfile.TemporaryDirectory(prefix="vdiskd-bench-export.") as workdir:
        target = Tgtd(workdir, [(RAW_LUN, size, False), (DATASTORE_LUN, size + GIB, False)], IQN)
        export = relay = None
        try:
            raw, store = target.url(RAW_LUN), target.url(DATASTORE_LUN)
            log(f"== setting up: datastore, {args.disk} disk, data on both sides")
            ctl = args.vdiskctl
            run([ctl, "datastore", "format", store, "--label", "bench", "--block-size", "1MiB"], 120)
            run([ctl, "disk", "create", store, "disk", "--size", size, *(["--eager"] if args.disk == "eager" else [])], 600)
            fill = ["--pattern", "seqwrite", "--bs", MIB, "--qd", 8, "--seconds", 600, "--max-ios", size // MIB]
            run([ctl, "target", "bench", raw, *fill], 700)
            run([ctl, "disk", "bench", store, "disk", *fill], 700)
            export = Export(ctl, store, "disk")
            if args.relay != "none":
                relay = Relay(args.relay, target.port)
            rows = []
            for name, random, bs, qd, goal in WORKLOADS:
                samples = {"export": [], "relay": [], "direct": []}
                for pair in range(args.pairs):
                    samples["export"].append(iscsi_perf(export.url(), random, bs, qd, args.seconds,
                                                        {"exportCPU": export.proc.pid, "tgtdCPU": target.proc.pid}))
                    if relay:
                        samples["relay"].append(iscsi_perf(relay.url(IQN, RAW_LUN), random, bs, qd, args.seconds,
                                                           {"relayCPU": relay.proc.pid, "tgtdCPU": target.proc.pid}))
                    samples["direct"].append(iscsi_perf(raw, random, bs, qd, args.seconds, {"tgtdCPU": target.proc.pid}))
                    e, d = samples["export"][-1], samples["direct"][-1]
                    relayed = f", relay {samples['relay'][-1]['iops'] / d['iops']:.2f}" if relay else ""
                    log(f"{name} round {pair + 1}: export {e['iops']:.0f} IOPS (CPU-s/100k: export "
                        f"{per_100k(e, 'exportCPU'):.2f}, all {per_100k(e, 'totalCPU'):.2f}), direct {d['iops']:.0f} IOPS "
                        f"(all {per_100k(d, 'totalCPU'):.2f}), ratio {e['iops'] / d['iops']:.2f}{relayed}")
                rows.append((name, goal, samples))
        finally:
            if relay:
                relay.stop()
            if export:
                export.stop()
            target.stop()

    report = render(args, started, rows)
    print(report)
    if args.write_doc:
        write_doc(args.write_doc, report)
        log(f"wrote the Export section of {args.write_doc}")


def render(args, started, rows):
    median = lambda samples, f: statistics.median(f(s) for s in samples)
    relayed = args.relay != "none"
    lines = [
        f"Run of {started:%Y-%m-%d %H:%M} UTC, `Scripts/bench-export --pairs {args.pairs} --seconds {args.seconds} "
        f"--disk {args.disk} --relay {args.relay}`: {args.pairs} alternating rounds "
        f"({'export, relay, direct' if relayed else 'export, direct'}) of {args.seconds} s; medians. "
        f"The exported disk is {args.disk} ({args.disk_gib} GiB, 1 MiB file blocks), the direct side a raw "
        f"{args.disk_gib} GiB LUN on the same tgtd; both file-backed and written in full. CPU columns are user + "
        "system seconds per 100k I/Os: \"export\" of the export process, \"all\" of every process on the path "
        "(iscsi-perf, the export, tgtd; direct: iscsi-perf and tgtd)."
        + (f" \"relay\" is `tcp_relay.py --mode {args.relay}` in front of the raw LUN: bytes moved and nothing "
           "else, the ceiling for any process between client and target here." if relayed else ""),
        "",
        "| workload | export IOPS | export MB/s | export CPU/100k | all CPU/100k (export) | direct IOPS | direct MB/s "
        "| all CPU/100k (direct) |" + (" relay/direct |" if relayed else "") + " export/direct | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if relayed else "") + "---:|---:|",
    ]
    spreads = []
    for name, goal, samples in rows:
        e, r, d = samples["export"], samples["relay"], samples["direct"]
        direct = median(d, lambda s: s["iops"])
        ratio = median(e, lambda s: s["iops"]) / direct
        verdict = f"≥ {goal:.2f} {'met' if ratio >= goal else '**not met**'}"
        relay_cell = f" {median(r, lambda s: s['iops']) / direct:.2f} |" if relayed else ""
        lines.append(
            f"| {name} | {median(e, lambda s: s['iops']):.0f} | {median(e, lambda s: s['mbs']):.1f} "
            f"| {median(e, lambda s: per_100k(s, 'exportCPU')):.2f} | {median(e, lambda s: per_100k(s, 'totalCPU')):.2f} "
            f"| {direct:.0f} | {median(d, lambda s: s['mbs']):.1f} "
            f"| {median(d, lambda s: per_100k(s, 'totalCPU')):.2f} |{relay_cell} **{ratio:.2f}** | {verdict} |")
        spread = ", ".join(f"{a['iops'] / b['iops']:.2f}" for a, b in zip(e, d))
        if relayed:
            spread += " (relay: " + ", ".join(f"{a['iops'] / b['iops']:.2f}" for a, b in zip(r, d)) + ")"
        spreads.append(f"{name}: {spread}")
    lines += ["", "Per-round ratios export/direct, to show the spread: " + "; ".join(spreads) + "."]
    return "\n".join(lines)


def write_doc(path, report):
    """Replaces the text between the markers of the Export section, or appends the section."""
    write_marked_section(path, report, BEGIN, END, (
        "## Export\n\nlibiscsi's iscsi-perf against tgtd directly and through `vdiskctl export serve`.\n"
        "Repeat with `Scripts/bench-export` (options `--pairs N --seconds S --disk eager|thin`).\n\n"))


if __name__ == "__main__":
    main()
