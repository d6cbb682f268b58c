#!/usr/bin/env python3
"""Runs vdiskctl target bench on each engine and iscsi-perf in alternation (A B C A B C ...)
against one tgtd.

Each round runs the same workload on the same LUN back to back on every side, so the noise
of a shared machine hits all alike. The table reports medians of each side, CPU seconds per
100k I/Os of each initiator process, the ratio of each engine to iscsi-perf, and the ratio
native/libiscsi engine. iscsi-perf only reads, so write rows show "n/a" for it and compare
the two engines only.
"""
import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

IQN = "iqn.2026-11.org.vdiskd:bench"


from bench_tgtd import Tgtd


def run_measured(cmd, timeout):
    """Runs cmd, returns (stdout, cpu seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out.stdout + out.stderr, cpu


def ours(vdiskctl, url, pattern, bs, qd, seconds, engine):
    cmd = [vdiskctl, "target", "bench", url, "--pattern", pattern, "--bs", str(bs), "--qd", str(qd),
           "--seconds", str(seconds), "--json", "--engine", engine]
    text, cpu = run_measured(cmd, seconds + 60)
    result = json.loads(text[text.index("{"):text.rindex("}") + 1])
    return result["iops"], result["mbPerSecond"], cpu, result["ios"]


def libiscsi(url, pattern, bs, qd, seconds):
    blocks = bs // 512
    cmd = ["iscsi-perf", "-m", str(qd), "-b", str(blocks), "-t", str(seconds)]
    if pattern.startswith("rand"):
        cmd.append("-r")
    text, cpu = run_measured(cmd + [url], seconds + 60)
    averages = re.findall(r"iops average (\d+) \((\d+) MB/s\)", text)
    if not averages:
        raise RuntimeError(f"could not read iscsi-perf's output: {text[-300:]}")
    iops = float(averages[-1][0])
    return iops, iops * bs / 1e6, cpu, iops * seconds


PERF = "iscsi-perf"
BASELINE = "baseline native"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vdiskctl", required=True)
    parser.add_argument("--pairs", type=int, default=3, help="rounds of alternation per workload (at least 3 for the record)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--engines", default="native,libiscsi", help="comma-separated vdiskctl engines to include")
    parser.add_argument("--baseline", help="another vdiskctl (say, a release build of main) to run with the native "
                        "engine as one more side of every round, for a before/after comparison")
    parser.add_argument("--only", action="append", default=[],
                        help="run only workloads whose name contains this text (repeatable)")
    args = parser.parse_args()
    for tool in ("tgtd", "tgtadm", "iscsi-perf"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run Scripts/install-deps")

    workloads = [
        ("null LUN, 4 KiB random read, QD1", 1, "randread", 4096, 1),
        ("null LUN, 4 KiB random read, QD32", 1, "randread", 4096, 32),
        ("null LUN, 1 MiB sequential read, QD8", 1, "seqread", 1 << 20, 8),
        ("null LUN, 4 KiB random write, QD1", 1, "randwrite", 4096, 1),
        ("null LUN, 4 KiB random write, QD32", 1, "randwrite", 4096, 32),
        ("null LUN, 1 MiB sequential write, QD8", 1, "seqwrite", 1 << 20, 8),
        ("file LUN, 4 KiB random read, QD32", 2, "randread", 4096, 32),
        ("file LUN, 1 MiB sequential read, QD8", 2, "seqread", 1 << 20, 8),
        ("file LUN, 4 KiB random write, QD32", 2, "randwrite", 4096, 32),
        ("file LUN, 1 MiB sequential write, QD8", 2, "seqwrite", 1 << 20, 8),
    ]
    if args.only:
        workloads = [w for w in workloads if any(text in w[0] for text in args.only)]
    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in ("native", "libiscsi"):
            raise SystemExit(f"unknown engine {engine!r}: use native and/or libiscsi")
    if args.baseline:
        engines.append(BASELINE)
    with tempfile.TemporaryDirectory() as workdir:
        # LUN 1 is null-backed (no disk in the way), LUN 2 a 1 GiB file.
        target = Tgtd(workdir, [(1, None, False), (2, 1 << 30, False)], IQN)
        try:
            # Fill the file LUN once so reads hit real data, not holes.
            subprocess.run([args.vdiskctl, "target", "bench", target.url(2), "--pattern", "seqwrite", "--bs", "1M",
                            "--qd", "8", "--seconds", "60", "--max-ios", "1024"], check=True, capture_output=True)
            rows = []
            for name, lun, pattern, bs, qd in workloads:
                # iscsi-perf has no write mode: write rows compare the engines only.
                sides = engines + ([PERF] if not pattern.endswith("write") else [])
                samples = {side: [] for side in sides}
                for _ in range(args.pairs):
                    for side in sides:
                        if side == PERF:
                            samples[side].append(libiscsi(target.url(lun), pattern, bs, qd, args.seconds))
                        elif side == BASELINE:
                            samples[side].append(ours(args.baseline, target.url(lun), pattern, bs, qd, args.seconds, "native"))
                        else:
                            samples[side].append(ours(args.vdiskctl, target.url(lun), pattern, bs, qd, args.seconds, side))
                rows.append((name, samples))
                print(table_row(name, samples, engines), file=sys.stderr)
        finally:
            target.stop()
    print()
    print(f"{args.pairs} alternating rounds of {args.seconds} s each; medians; CPU s per 100k I/Os of each initiator process")
    print()
    header = "| workload | " + " | ".join(f"{e} IOPS | {e} MB/s | {e} CPU/100k" for e in engines + [PERF])
    header += " | " + " | ".join(f"{e}/{PERF}" for e in engines)
    if "native" in engines and "libiscsi" in engines:
        header += " | native/libiscsi engine"
    if "native" in engines and BASELINE in engines:
        header += f" | native/{BASELINE}"
    header += " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, samples in rows:
        print(table_row(name, samples, engines))


def medians(samples):
    iops = statistics.median(s[0] for s in samples)
    mbs = statistics.median(s[1] for s in samples)
    cpu = statistics.median(s[2] * 100_000 / max(1, s[3]) for s in samples)
    return iops, mbs, cpu


def table_row(name, samples, engines):
    cells = [name]
    for side in engines + [PERF]:
        if side in samples:
            iops, mbs, cpu = medians(samples[side])
            cells += [f"{iops:.0f}", f"{mbs:.1f}", f"{cpu:.2f}"]
        else:
            cells += ["n/a"] * 3
    for e in engines:
        cells.append(f"{medians(samples[e])[0] / medians(samples[PERF])[0]:.2f}" if PERF in samples else "n/a")
    if "native" in engines and "libiscsi" in engines:
        cells.append(f"{medians(samples['native'])[0] / medians(samples['libiscsi'])[0]:.2f}")
    if "native" in engines and BASELINE in engines:
        cells.append(f"{medians(samples['native'])[0] / medians(samples[BASELINE])[0]:.2f}")
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
