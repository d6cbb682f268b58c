#!/usr/bin/env python3
"""Datastore benchmark through vdiskd's native initiator against one tgtd on loopback.

1. A fully allocated (eager-zeroed) virtual disk against a raw LUN of the same size on the
   same tgtd, for 4 KiB random read QD32 and 1 MiB sequential read and write QD8. Runs
   alternate (disk, raw, disk, raw, ...) so the noise of a shared machine hits both alike.
2. First-write throughput of a new thin disk against a new eager disk (1 MiB sequential
   writes, QD8, every block written once), alternating, a fresh pair of disks each time.
3. Map-cache memory of a fully mapped 1 TiB thin disk: one small write per pointer page
   (every 509th file block) gives the disk every pointer page a fully written disk has;
   `disk bench --warm-map` then loads them all and reports the cache's size.

Medians of each side and the ratio disk/raw are printed as Markdown tables.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

IQN = "iqn.2026-11.org.vdiskd:bench-datastore"
MIB = 1 << 20
GIB = 1 << 30
RAW_LUN, DATASTORE_LUN, MAP_LUN = 1, 2, 3


from bench_tgtd import Tgtd


class VDiskCtl:
    def __init__(self, path):
        self.path = path

    def run(self, *args, timeout=600):
        """Runs vdiskctl; returns (stdout, CPU seconds of the child)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True, timeout=timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            raise RuntimeError(f"vdiskctl {' '.join(map(str, args))} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return out.stdout, cpu

    def bench(self, kind, url, disk, pattern, bs, qd, seconds, max_ios=100_000_000, extra=()):
        """One bench run on the raw LUN (kind "raw") or a virtual disk; returns a sample."""
        common = ["--pattern", pattern, "--bs", bs, "--qd", qd, "--seconds", seconds, "--max-ios", max_ios, "--json", *extra]
        if kind == "raw":
            text, cpu = self.run("target", "bench", url, *common, timeout=seconds + 120)
        else:
            text, cpu = self.run("disk", "bench", url, disk, *common, timeout=seconds + 120)
        result = json.loads(text[text.index("{"):text.rindex("}") + 1])
        result["cpu"] = cpu
        return result


def median(samples, key):
    return statistics.median(s[key] for s in samples)


def cpu_per_100k(samples):
    return statistics.median(s["cpu"] * 100_000 / max(1, s["ios"]) for s in samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vdiskctl", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--disk-gib", type=int, default=1, help="size of the eager disk and of the raw LUN")
    parser.add_argument("--first-write-mib", type=int, default=512)
    args = parser.parse_args()
    if args.pairs < 3:
        raise SystemExit("--pairs must be at least 3")
    for tool in ("tgtd", "tgtadm"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run Scripts/install-deps")
    ctl = VDiskCtl(args.vdiskctl)
    size = args.disk_gib * GIB
    first = args.first_write_mib * MIB
    log = lambda *a: print(*a, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="vdiskd-bench-ds.") as workdir:
        # The datastore LUN holds the eager disk plus a thin and an eager first-write disk,
        # with room to spare; it is not thin-provisioned, so zeroing really writes.
        luns = [(RAW_LUN, size, False), (DATASTORE_LUN, size + 2 * first + 2 * GIB, False), (MAP_LUN, 16 * GIB, True)]
        target = Tgtd(workdir, luns, IQN)
        try:
            raw, store, maps = target.url(RAW_LUN), target.url(DATASTORE_LUN), target.url(MAP_LUN)
            log("== setting up: datastore, eager disk, data in both")
            ctl.run("datastore", "format", store, "--label", "bench", "--block-size", "1MiB")
            ctl.run("disk", "create", store, "eager", "--size", size, "--eager")
            # Real data everywhere the reads go, on both sides.
            fill = size // MIB
            ctl.bench("raw", raw, None, "seqwrite", MIB, 8, 300, max_ios=fill)
            ctl.bench("disk", store, "eager", "seqwrite", MIB, 8, 300, max_ios=fill)

            workloads = [
                ("4 KiB random read, QD32", "randread", 4096, 32),
                ("1 MiB sequential read, QD8", "seqread", MIB, 8),
                ("1 MiB sequential write, QD8", "seqwrite", MIB, 8),
            ]
            rows = []
            for name, pattern, bs, qd in workloads:
                samples = {"disk": [], "raw": []}
                for pair in range(args.pairs):
                    samples["disk"].append(ctl.bench("disk", store, "eager", pattern, bs, qd, args.seconds))
                    samples["raw"].append(ctl.bench("raw", raw, None, pattern, bs, qd, args.seconds, extra=["--range", size]))
                    log(f"{name} pair {pair + 1}: disk {samples['disk'][-1]['iops']:.0f} IOPS, raw {samples['raw'][-1]['iops']:.0f} IOPS")
                rows.append((name, samples))

            log("== first writes: thin against eager")
            first_samples = {"thin": [], "eager": []}
            blocks = first // MIB
            for pair in range(args.pairs):
                for kind in ("thin", "eager"):
                    name = f"first-{kind}-{pair}"
                    started = time.monotonic()
                    ctl.run("disk", "create", store, name, "--size", first, *(["--eager"] if kind == "eager" else []))
                    created = time.monotonic() - started
                    sample = ctl.bench("disk", store, name, "seqwrite", MIB, 8, 600, max_ios=blocks)
                    sample["create"] = created
                    first_samples[kind].append(sample)
                    ctl.run("disk", "delete", store, name)
                    log(f"first write pair {pair + 1} {kind}: {sample['mbPerSecond']:.1f} MB/s (created in {created:.2f} s)")

            log("== map cache of a fully mapped 1 TiB thin disk")
            ctl.run("datastore", "format", maps, "--label", "maps", "--block-size", "1MiB")
            ctl.run("disk", "create", maps, "tib", "--size", 1 << 40)
            page = os.path.join(workdir, "page.bin")
            with open(page, "wb") as f:
                f.write(os.urandom(4096))
            # One 4 KiB write every 509 file blocks lands in every pointer page once.
            stride = 509 * MIB
            copies = ((1 << 40) - 4096) // stride + 1
            started = time.monotonic()
            ctl.run("disk", "write", maps, "tib", "--offset", 0, "--in", page, "--repeat", copies, "--stride", stride, timeout=1800)
            populated = time.monotonic() - started
            warm = ctl.bench("disk", maps, "tib", "randread", 4096, 1, 5, max_ios=1, extra=["--warm-map"])
            info, _ = ctl.run("disk", "info", maps, "tib", "--json")
            allocated = json.loads(info)["allocatedBlocks"]
        finally:
            target.stop()

    print()
    print(f"{args.pairs} alternating pairs of {args.seconds} s; medians; eager disk and raw LUN of {args.disk_gib} GiB "
          f"on one tgtd (file-backed, both fully written); 1 MiB file blocks; CPU s per 100k I/Os of the vdiskctl process")
    print()
    print("| workload | disk IOPS | disk MB/s | disk CPU/100k | raw IOPS | raw MB/s | raw CPU/100k | disk/raw |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, samples in rows:
        d, r = samples["disk"], samples["raw"]
        print(f"| {name} | {median(d, 'iops'):.0f} | {median(d, 'mbPerSecond'):.1f} | {cpu_per_100k(d):.2f} | "
              f"{median(r, 'iops'):.0f} | {median(r, 'mbPerSecond'):.1f} | {cpu_per_100k(r):.2f} | "
              f"{median(d, 'iops') / median(r, 'iops'):.2f} |")
    print()
    t, e = first_samples["thin"], first_samples["eager"]
    print(f"First writes: {args.first_write_mib} MiB written once, 1 MiB sequential, QD8, a new disk per run")
    print()
    print("| disk | create s | first-write MB/s | CPU/100k |")
    print("|---|---:|---:|---:|")
    print(f"| thin | {median(t, 'create'):.2f} | {median(t, 'mbPerSecond'):.1f} | {cpu_per_100k(t):.2f} |")
    print(f"| eager | {median(e, 'create'):.2f} | {median(e, 'mbPerSecond'):.1f} | {cpu_per_100k(e):.2f} |")
    print(f"| thin/eager | | {median(t, 'mbPerSecond') / median(e, 'mbPerSecond'):.2f} | |")
    print()
    pages = -(-((1 << 40) // MIB - 256) // 509)
    print(f"Map cache, 1 TiB thin disk, {copies} one-page writes in {populated:.1f} s, {allocated} file blocks allocated: "
          f"measured {warm['mapCacheBytes']} bytes; formula ceil((2^20 - 256) / 509) = {pages} pages x 4136 B = {pages * 4136} bytes")


if __name__ == "__main__":
    main()
