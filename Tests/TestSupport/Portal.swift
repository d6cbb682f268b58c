// Where a started target listens, and the libiscsi URLs that reach it.

public struct Portal: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// "host:port", as iSCSI text keys and logs write it.
    public var description: String {
        "\(host):\(port)"
    }

    /// `iscsi://host:port`, the form iscsi-ls takes for discovery.
    public var discoveryURL: String {
        "iscsi://\(host):\(port)"
    }

    /// A libiscsi URL for one LUN. CHAP goes in as `user%secret@`; mutual
    /// CHAP's target side as `target_user`/`target_password` arguments.
    public func libiscsiURL(target iqn: String, lun: Int, chap: CHAPAuthentication? = nil) -> String {
        var url = "iscsi://"
        if let chap {
            url += "\(chap.initiator.user)%\(chap.initiator.secret)@"
        }
        url += "\(host):\(port)/\(iqn)/\(lun)"
        if let target = chap?.target {
            url += "?target_user=\(target.user)&target_password=\(target.secret)"
        }
        return url
    }
}
