// Everything a test asks of one LIO guest.

public struct LIOConfiguration: Hashable, Sendable {
    public var targets: [LIOTargetSpec]
    /// CHAP that SendTargets discovery sessions must pass; nil leaves discovery open.
    public var discoveryCHAP: CHAPAccount?
    /// From QEMU's start until the guest reports on its control port. TCG is slow: a boot
    /// takes 5–10 s on an idle 2-core machine and over 90 s when it is saturated.
    public var bootTimeout: Duration
    /// From the last configfs write until a real login through the forwarded port works.
    public var loginTimeout: Duration
    public var memoryMiB: Int

    public init(
        targets: [LIOTargetSpec],
        discoveryCHAP: CHAPAccount? = nil,
        bootTimeout: Duration = .seconds(300),
        loginTimeout: Duration = .seconds(60),
        memoryMiB: Int = 512
    ) {
        self.targets = targets
        self.discoveryCHAP = discoveryCHAP
        self.bootTimeout = bootTimeout
        self.loginTimeout = loginTimeout
        self.memoryMiB = memoryMiB
    }

    /// Characters a configfs value can carry through the control port and a libiscsi URL.
    private static let plainCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:~")

    /// Rejects what LIO would refuse half-way through configuration, with a precise message.
    func validate() throws(TestSupportError) {
        guard !targets.isEmpty else {
            throw TestSupportError(.invalidConfiguration, "a LIO configuration needs at least one target")
        }
        var iqns: Set<String> = []
        for target in targets {
            guard iqns.insert(target.iqn).inserted else {
                throw TestSupportError(.invalidConfiguration, "target \(target.iqn) is configured twice")
            }
            // LIO matches TargetName byte for byte; a mixed-case IQN is reachable only with
            // exactly that case, which RFC 3722 normalisation in initiators breaks.
            guard target.iqn == target.iqn.lowercased(), target.iqn.allSatisfy(Self.plainCharacters.contains) else {
                throw TestSupportError(.invalidConfiguration, "\(target.iqn): use a lower-case IQN of letters, digits and . - : only")
            }
            guard !target.luns.isEmpty else {
                throw TestSupportError(.invalidConfiguration, "\(target.iqn) has no LUN")
            }
            var numbers: Set<Int> = []
            for lun in target.luns {
                guard numbers.insert(lun.number).inserted, (0..<256).contains(lun.number) else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) is configured twice or is outside 0...255")
                }
                guard case .file(let size) = lun.backing, size > 0, size % 512 == 0 else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) must be a file whose size is a positive multiple of 512")
                }
            }
            let accounts = [target.chap?.initiator, target.chap?.target, discoveryCHAP].compactMap { $0 }
            for account in accounts where !(account.user + account.secret).allSatisfy(Self.plainCharacters.contains) {
                throw TestSupportError(.invalidConfiguration, "CHAP account \(account.user): names and secrets are limited to letters, digits and . - _ : ~")
            }
            for (key, value) in target.parameters where !(key + value).allSatisfy(Self.plainCharacters.union([","]).contains) {
                throw TestSupportError(.invalidConfiguration, "\(target.iqn): parameter \(key)=\(value) has characters configfs requests cannot carry")
            }
        }
    }
}
