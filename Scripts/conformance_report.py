#!/usr/bin/env python3
"""The two halves of Scripts/conformance that read iscsi-test-cu logs.

    conformance_report.py merge OUT MAIN MPIO [WP]
        Merges the runs of one target test by test, in the main run's order, into a log
        tcu-score reads: a test skipped in MAIN for want of a second path takes MPIO's result,
        one skipped for want of write protection WP's.

    conformance_report.py report DOC TCU_SCORE export=LOG [tgt=LOG] [lio=LOG]
        Writes DOC (docs/CONFORMANCE.md): the export's score with every skip and failure and
        why, then, when the other targets ran, the three side by side on every test where
        they do not all agree, saying who follows the standard where the export and LIO differ.
"""
import datetime
import re
import subprocess
import sys


def blocks(path):
    """Each test's lines of one log, keyed by (suite, test), and the order they came in."""
    suite, current, order, found = "", None, [], {}
    for line in open(path, errors="replace").read().splitlines():
        s = re.match(r"Suite: (\S+)", line)
        if s:
            suite = s.group(1)
        m = re.match(r"\s*Test: (\S+) \.\.\.", line)
        if m:
            current = (suite, m.group(1))
            order.append(current)
            found[current] = [line]
        elif current and re.match(r"\s*(Suite:|Run Summary:)", line):
            current = None
        elif current:
            found[current].append(line)
    return order, found


def merge(out_path, main_path, mpio_path, wp_path=None):
    order, main = blocks(main_path)
    _, mpio = blocks(mpio_path)
    wp = blocks(wp_path)[1] if wp_path else {}
    out, suite = [], None
    for key in order:
        body = main[key]
        text = "\n".join(body)
        if "SKIPPED" in text and key in mpio and key[0] == "MultipathIO":
            body = mpio[key]
        elif "SKIPPED" in text and "not write-protected" in text and key in wp:
            body = wp[key]
        if key[0] != suite:
            suite = key[0]
            out.append(f"Suite: {suite}")
        out.extend(body)
    out.append("Run Summary: merged")
    open(out_path, "w").write("\n".join(out) + "\n")


class Scored:
    """One target's merged log as tcu-score judges it: the summary line and each test's result."""

    def __init__(self, tcu_score, log):
        def run(*arguments):
            return subprocess.run([sys.executable, tcu_score, *arguments, log], capture_output=True, text=True).stdout
        self.summary = run().strip().splitlines()[-1]
        self.skipped, self.failed = [], []
        for line in run("--skips").splitlines():
            kind, _, rest = line.partition(" ")
            if kind not in ("skipped", "failed"):
                continue
            name, _, reason = rest.strip().partition(":")
            (self.skipped if kind == "skipped" else self.failed).append((name.strip(), reason.strip()))
        order, _ = blocks(log)
        self.tests = [f"{suite}.{test}" for suite, test in order]
        self.text = open(log, errors="replace").read().splitlines()

    def outcome(self, name):
        if name not in self.tests:
            return "not run"
        if any(name == n for n, _ in self.failed):
            return "failed"
        return "skipped" if any(name == n for n, _ in self.skipped) else "clean"

    def first_failures(self):
        """What each test printed first when it failed, to give the reason in its own words."""
        first, suite, current = {}, "", None
        for line in self.text:
            s = re.match(r"Suite: (\S+)", line)
            if s:
                suite = s.group(1)
            m = re.match(r"\s*Test: (\S+) \.\.\.(.*)", line)
            if m:
                current = f"{suite}.{m.group(1)}"
                line = m.group(2)
            if current and current not in first:
                f = re.search(r"\[FAILED\]\s*(.*)", line) or re.search(r"^\s*\d+\. (\S+:\d+\s+- .*)", line)
                if f:
                    first[current] = f.group(1).strip()
        return first


# Why the export's result is what it is, where the test's own words do not say it all.
NOTES = {
    "removable": "SBC direct-access units are not removable media; the test applies to removable units only.",
    "Reserve6.LUNReset": "printed by the suite's clean-up after the test passed: a LOGICAL UNIT RESET queues BUS DEVICE RESET FUNCTION OCCURRED for every I_T nexus, the asking one included (SAM-3 §6.2, as MultipathIO.Reset checks: the path that sent the reset must hear it too), and the clean-up's PERSISTENT RESERVE IN on that nexus does not expect it.",
    "iSCSIdatasn.iSCSIDataSnInvalid": "every bad DataSN is refused (CHECK CONDITION, ABORTED COMMAND, DATA PHASE ERROR) and CUnit reports the test passed, but libiscsi's write10 helper expects GOOD and prints \"[FAILED] WRITE10 command failed\" for each refusal the test provokes, which tcu-score counts as a failure; only accepting the bad DataSN would avoid the text, and the test then fails its assertion.",
    "GetLBAStatus.UnmapSingle": "libiscsi 1.19 asks for the status at LBA i+1 and wants the first descriptor to start at i+LBPPB; the unit reports 8 logical blocks per physical block, and SBC-3 and later have the first descriptor cover the starting LBA, so no answer can start at i+LBPPB; this one starts at i+1. With one logical block per physical block the two are the same LBA.",
}

# Where the export and LIO disagree: who follows the standard. By test name, or by a suite
# (a prefix ending before a dot); then by the words of LIO's skip (REASONS).
STANDARD = {
    "CompareAndWrite.Simple": "the export: SBC-4 wants ILLEGAL REQUEST, INVALID FIELD IN CDB for more blocks than MAXIMUM COMPARE AND WRITE LENGTH; LIO (one block at most) answers 0x0E03, INVALID FIELD IN COMMAND INFORMATION UNIT.",
    "CompareAndWrite.Miscompare": "the export: as CompareAndWrite.Simple, the multi-block COMPARE AND WRITE the test sends first gets LIO's 0x0E03 instead of INVALID FIELD IN CDB.",
    "Inquiry.BlockLimits": "both: the bound the test asserts (MAXIMUM UNMAP LBA COUNT at most 1 Mi blocks) is libiscsi's own; SBC-4 sets no upper limit, and LIO reports a larger one.",
    "ReceiveCopyResults.CopyStatus": "the export: LIO accepts EXTENDED COPY (LID1) but refuses its COPY STATUS service action of RECEIVE COPY RESULTS (SPC-4), with which an initiator follows such a copy.",
    "Reserve6.Logout": "the export: SPC-2 releases a RESERVE(6) when the I_T nexus is lost (logout); LIO releases it asynchronously, and the test's next login still meets RESERVATION CONFLICT.",
    "Sanitize.Reset": "the export: a knock-on of Reserve6.Logout on LIO, whose reservation outlived the logout; the test's PERSISTENT RESERVE IN meets RESERVATION CONFLICT. LIO has no SANITIZE either (optional in SBC-4).",
    "Sanitize.Readonly": "the export, in effect: SANITIZE is optional (SBC-4), LIO lacks it and the test fails instead of skipping on its refusal.",
    "StartStopUnit.NoLoej": "the export: a knock-on of Reserve6.Logout on LIO (RESERVATION CONFLICT on the test's PERSISTENT RESERVE IN).",
    "Verify10.Mismatch": "the export: with BYTCHK 1, SBC-4 has VERIFY compare the data and end in MISCOMPARE on a difference; LIO does not compare and answers GOOD.",
    "Verify16.Mismatch": "the export: as Verify10.Mismatch.",
    "Verify10.VerifyProtect": "the export: SBC-4 wants ILLEGAL REQUEST, INVALID FIELD IN CDB for a non-zero VRPROTECT on a unit without protection information; LIO ignores the field.",
    "Verify16.VerifyProtect": "the export: as Verify10.VerifyProtect.",
    "GetLBAStatus.UnmapSingle": "both: LIO leaves GET LBA STATUS out (optional in SBC-4); the export's failure is the test's own reading, explained under Failed above.",
    "iSCSIResiduals": "both, by different readings: for an Expected Data Transfer Length other than the CDB's, RFC 7143 §11.4.5.2 has the target signal the overflow or underflow with its residual count; the export does and carries the command out (GOOD, as the test wants); LIO refuses it with CHECK CONDITION, the choice FCP-4 names for an overflow, which the kernel took in 2021.",
}

# LIO's skips that say which optional part it leaves out: nobody breaks the standard there.
REASONS = {
    "is not implemented": "both: an optional command or feature (SPC-4/SBC-4) that LIO leaves out and the export implements.",
    "not working/implemented": "both: a target may answer TARGET WARM RESET and TARGET COLD RESET with \"Task management function not supported\" (RFC 7143 §11.6.1), as LIO does.",
    "LBPPB < 2": "both: LIO reports one logical block per physical block, so the test does not apply; the export reports 8.",
    "does not support 0-blocks": "both: LIO sets WSNZ in its Block Limits (SBC-4 allows refusing a WRITE SAME of zero blocks); the export takes zero as \"to the end\".",
}


def note(name, reason):
    for key, value in NOTES.items():
        if key == name or (key in reason and "." not in key):
            return value
    return ""


def standard_note(name, lio):
    # The test's own entry; then a skip that names what LIO leaves out; then the suite's entry.
    if name in STANDARD:
        return STANDARD[name]
    reason = next((reason for skipped, reason in lio.skipped if skipped == name), "")
    for words, value in REASONS.items():
        if words in reason:
            return value
    for key, value in STANDARD.items():
        if name == key or name.startswith(key + "."):
            return value
    return ""


def report(doc, tcu_score, columns):
    runs = {label: Scored(tcu_score, log) for label, log in columns}
    export = runs["export"]
    first_failure = export.first_failures()
    lines = [
        "# Conformance: libiscsi's iscsi-test-cu against the export, tgt and LIO",
        "",
        "Generated by `Scripts/conformance` on " + datetime.date.today().isoformat() + "; do not edit by hand.",
        "",
        "Runs `vdiskctl export serve DATASTORE DISK` on loopback, each export a thin 1 GiB disk",
        "(`vdiskctl disk create`) in a datastore of its own (`vdiskctl datastore format` on a sparse",
        "image file), SANITIZE paced to 128 MiB/s (`--sanitize-rate`) and no NOP-In pings (the suite",
        "sleeps a minute at a time without reading its socket). The main run, with `-d`",
        "(destructive tests) and `-S` (SANITIZE), goes through one portal; the MultipathIO tests run",
        "again through two portals of the same export and supply the results the main run skips for",
        "want of a second path; a run against a `--read-only` export supplies the tests the main run",
        "skips for want of write protection.",
        "Scored with `../shared/tools/tcu-score`, which counts a test that only printed [SKIPPED] apart",
        "from a clean pass.",
        "",
        "**Score: " + export.summary + "**",
        "",
        "## Skipped (" + str(len(export.skipped)) + ")",
        "",
        "| test | the test's reason | why |",
        "|---|---|---|",
    ]
    for name, reason in export.skipped:
        lines.append(f"| {name} | {reason} | {note(name, reason)} |")
    others = [label for label in ("tgt", "lio") if label in runs]
    lines += ["", "## Failed (" + str(len(export.failed)) + ")", ""]
    if others:
        lines += ["The last columns are the same test on the other targets (below).", ""]
    lines += [
        "| test | first failure | why |" + "".join(f" {label} |" for label in others),
        "|---|---|---|" + "---|" * len(others),
    ]
    for name, _ in export.failed:
        reason = first_failure.get(name, "?").replace("|", "/")
        lines.append(f"| {name} | {reason} | {note(name, reason)} |" + "".join(f" {runs[label].outcome(name)} |" for label in others))
    lines += [
        "",
        "Why these cannot reach zero here: the three tests, as libiscsi 1.19 writes them, ask for",
        "things no logical unit can give at once.",
        "",
        "- **iSCSIdatasn.iSCSIDataSnInvalid** has no clean outcome at all: each bad DataSN that the",
        "  target refuses makes the write10 helper print [FAILED] (or [SKIPPED], if the refusal",
        "  reads as an unknown opcode), and a target that accepts it fails the test's assertion.",
        "- **Reserve6.LUNReset** against **MultipathIO.Reset** (vdiskd: " + export.outcome("MultipathIO.Reset")
        + "".join(f", {label}: {runs[label].outcome('MultipathIO.Reset')}" for label in others)
        + "): MultipathIO.Reset requires the path that sent",
        "  the LOGICAL UNIT RESET to report a unit attention; Reserve6's suite clean-up sends a",
        "  PERSISTENT RESERVE IN on that same path after the reset and fails on that unit attention.",
        "- **GetLBAStatus.UnmapSingle** against the five tests that skip unless a physical block holds",
        "  more than one logical block (CHECK_FOR_LBPPB_GT_1): with LBPPB above 1, UnmapSingle wants",
        "  the descriptor for LBA i+1 to start at i+LBPPB, which is not an LBA it covers; with LBPPB 1",
        "  it passes and those five are skipped. The unit reports 8 (4 KiB physical blocks, as the",
        "  datastore allocates them), so 1 fails where 5 would skip.",
    ]
    if others:
        labels = {"export": "export", "tgt": "tgt 1.0.85", "lio": "LIO (Debian 12, 6.1)"}
        lines += [
            "",
            "## The export, tgt and LIO side by side",
            "",
            "tgt 1.0.85 (Debian 12's tgtd, a thin file-backed 1 GiB LUN) and LIO (Debian 12's kernel",
            "6.1 in the test suite's QEMU guest, an iblock backstore on a thin 1 GiB sparse file with",
            "thin provisioning emulated) run the same main and MultipathIO runs, started by",
            "`vdiskd-testbed` (the test harness as a process). They have no write-protected run, so",
            "the tests that need one skip there.",
            "",
            "| target | score |",
            "|---|---|",
        ]
        for label in ["export"] + others:
            lines.append(f"| {labels[label]} | {runs[label].summary} |")
        differing = [name for name in export.tests if len({runs[label].outcome(name) for label in runs}) > 1]
        lines += [
            "",
            f"Every test whose results are not the same on all three ({len(differing)} of {len(export.tests)}).",
            "Where the export and LIO differ, the last column says who follows the standard.",
            "",
            "| test |" + "".join(f" {labels[label]} |" for label in ["export"] + others) + " who follows the standard |",
            "|---|" + "---|" * (len(others) + 2),
        ]
        for name in differing:
            results = [runs[label].outcome(name) for label in ["export"] + others]
            who = standard_note(name, runs["lio"]) if "lio" in runs and export.outcome(name) != runs["lio"].outcome(name) else ""
            lines.append(f"| {name} |" + "".join(f" {result} |" for result in results) + f" {who} |")
    open(doc, "w").write("\n".join(lines) + "\n")


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "merge":
        merge(*sys.argv[2:6])
    elif len(sys.argv) >= 5 and sys.argv[1] == "report":
        columns = [argument.split("=", 1) for argument in sys.argv[4:]]
        if not all(len(column) == 2 for column in columns) or columns[0][0] != "export":
            raise SystemExit(__doc__)
        report(sys.argv[2], sys.argv[3], columns)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
