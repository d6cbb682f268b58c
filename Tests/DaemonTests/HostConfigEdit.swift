// The config edit the multi-host daemon tests share: a host's identity, heartbeat and lease.

/// Replaces the minimal config's host UUID with `uuid`, names the host, and sets the heartbeat
/// interval and lease (seconds).
func hostConfigEdit(_ text: String, host: String, uuid: String, interval: Int, lease: Int) -> String {
    text.replacingOccurrences(of: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"\n", with: """
        host_uuid = "\(uuid)"
        host_name = "\(host)"
        heartbeat_interval_seconds = \(interval)
        heartbeat_lease_seconds = \(lease)

        """)
}
