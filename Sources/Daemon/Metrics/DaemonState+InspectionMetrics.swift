// The inspection filters' histograms in the Prometheus exposition.

import Filters

extension DaemonState {
    /// `vdiskd_disk_io_histogram{disk,kind,class,le}`: for each disk with an inspection filter,
    /// the I/Os whose value is at most `le` (cumulative, as Prometheus buckets are; `+Inf` is
    /// the total). Edges and units are the ones `vdiskctl disks histogram` draws.
    func inspectionExposition() -> String {
        var lines: [String] = []
        for settings in config.disks {
            guard let filter = storage.chain(settings.reference)?.chain.filter(named: "inspection") as? InspectionFilter else { continue }
            let snapshot = filter.snapshot
            for kind in HistogramKind.allCases {
                for ioClass in IOClass.allCases {
                    guard let histogram = snapshot.histograms[kind]?[ioClass] else { continue }
                    var running: UInt64 = 0
                    for (index, count) in histogram.counts.enumerated() {
                        running += count
                        let edge = index < histogram.edges.count ? String(histogram.edges[index]) : "+Inf"
                        lines.append("vdiskd_disk_io_histogram{disk=\"\(Self.escaped(settings.reference))\",kind=\"\(kind)\",class=\"\(ioClass)\",le=\"\(edge)\"} \(running)")
                    }
                }
            }
        }
        guard !lines.isEmpty else { return "" }
        let header = [
            "# HELP vdiskd_disk_io_histogram I/Os of a disk whose length (bytes), seek distance (blocks), outstanding count, latency or interarrival time (microseconds) is at most le, from its inspection filter.",
            "# TYPE vdiskd_disk_io_histogram gauge",
        ]
        return (header + lines).joined(separator: "\n") + "\n"
    }

    private static func escaped(_ label: String) -> String {
        String(label.flatMap { character -> [Character] in
            switch character {
            case "\\": ["\\", "\\"]
            case "\"": ["\\", "\""]
            case "\n": ["\\", "n"]
            default: [character]
            }
        })
    }
}
