// Options shared by every `vdiskctl target` command that logs in to a target.

import ArgumentParser
import ISCSI
import ISCSIAddress
import LibISCSI
import NIOCore

/// How to reach and authenticate to a target.
struct TargetOptions: ParsableArguments {
    @Option(help: "The initiator engine: native (ours) or libiscsi.")
    var engine: TargetEngine = .native

    @Option(name: .customLong("initiator-name"), help: "Our iSCSI initiator name (IQN).")
    var initiatorName: String = ISCSISessionConfiguration.defaultInitiatorName

    @Option(name: .customLong("chap-secret-file"), help: "Read the CHAP secret from this file instead of the URL.")
    var chapSecretFile: String?

    @Option(name: .customLong("chap-secret-env"), help: "Read the CHAP secret from this environment variable.")
    var chapSecretEnvironment: String?

    @Option(name: .customLong("target-user"), help: "Mutual CHAP: the name the target must answer with.")
    var targetUser: String?

    @Option(name: .customLong("target-secret-file"), help: "Mutual CHAP: read the target's secret from this file.")
    var targetSecretFile: String?

    @Option(name: .customLong("target-secret-env"), help: "Mutual CHAP: read the target's secret from this environment variable.")
    var targetSecretEnvironment: String?

    @Option(
        name: .customLong("chap-algorithms"),
        help: "CHAP algorithms to offer, strongest first (sha256, sha1, md5; default sha256,md5). tgt 1.0.85 needs md5."
    )
    var chapAlgorithms: String?

    @Flag(name: .customLong("header-digest"), help: "Ask for CRC32C header digests.")
    var headerDigest = false

    @Flag(name: .customLong("data-digest"), help: "Ask for CRC32C data digests.")
    var dataDigest = false

    @Option(name: .customLong("login-timeout"), help: "Seconds a login may take.")
    var loginTimeout: Int = 15

    @Option(name: .customLong("source-address"), help: "Connect from this local IP address (port binding; native engine only).")
    var sourceAddress: String?

    @Option(name: .customLong("source-interface"), help: "Connect through this network interface (SO_BINDTODEVICE; Linux 5.7 or later without privileges).")
    var sourceInterface: String?

    /// The source the options name; nil when neither is given.
    func connectionSource() throws -> ConnectionSource? {
        guard sourceAddress != nil || sourceInterface != nil else { return nil }
        do {
            return try ConnectionSource(address: sourceAddress, interface: sourceInterface)
        } catch {
            throw ValidationError("--source-address/--source-interface: \(error)")
        }
    }

    func validate() throws {
        if chapSecretFile != nil, chapSecretEnvironment != nil {
            throw ValidationError("use either --chap-secret-file or --chap-secret-env, not both")
        }
        if targetSecretFile != nil, targetSecretEnvironment != nil {
            throw ValidationError("use either --target-secret-file or --target-secret-env, not both")
        }
        if (targetSecretFile != nil || targetSecretEnvironment != nil) != (targetUser != nil) {
            throw ValidationError("mutual CHAP needs both --target-user and a target secret")
        }
        if engine == .libiscsi, dataDigest {
            throw ValidationError("--data-digest needs --engine native: libiscsi negotiates header digests only")
        }
        if let chapAlgorithms {
            do {
                _ = try CHAPAlgorithm.parse(list: chapAlgorithms)
            } catch {
                throw ValidationError("--chap-algorithms: \(error.message)")
            }
        }
        _ = try connectionSource()
        if engine == .libiscsi, sourceAddress != nil {
            throw ValidationError("--source-address needs --engine native: libiscsi can bind an interface only (--source-interface)")
        }
        if !(1...600).contains(loginTimeout) {
            throw ValidationError("--login-timeout must be between 1 and 600 seconds")
        }
    }

    /// The authentication the URL and options ask for.
    func authentication(
        user: String?,
        urlPassword: String?,
        urlTargetUser: String? = nil,
        urlTargetPassword: String? = nil,
        urlAlgorithms: [CHAPAlgorithm]? = nil
    ) throws -> LoginAuthentication {
        let secret = try SecretSource.read(file: chapSecretFile, variable: chapSecretEnvironment, purpose: "CHAP secret")
            ?? urlPassword
        let mutualSecret = try SecretSource.read(
            file: targetSecretFile,
            variable: targetSecretEnvironment,
            purpose: "target CHAP secret"
        ) ?? urlTargetPassword
        let targetUser = self.targetUser ?? urlTargetUser
        guard let user else {
            if secret != nil { throw CLIError("a CHAP secret was given but the URL names no user", exitCode: CLIExitCode.usage) }
            if targetUser != nil { throw CLIError("mutual CHAP needs a user in the URL too", exitCode: CLIExitCode.usage) }
            return .none
        }
        guard let secret else {
            throw CLIError(
                "the URL names CHAP user \(user) but no secret: use --chap-secret-file, --chap-secret-env or user%secret in the URL",
                exitCode: CLIExitCode.usage
            )
        }
        let mutual = targetUser.flatMap { name in mutualSecret.map { CHAPCredentials(user: name, secret: $0) } }
        // The option wins over the URL's chap_algorithms; validate() already parsed it.
        let algorithms = try chapAlgorithms.map { try CHAPAlgorithm.parse(list: $0) } ?? urlAlgorithms ?? CHAPAlgorithm.defaultOffer
        return .chap(CHAPCredentials(user: user, secret: secret), mutual: mutual, algorithms: algorithms)
    }

    func sessionConfiguration(
        portal: TargetPortal,
        targetName: String?,
        user: String?,
        password: String?,
        targetUser: String? = nil,
        targetPassword: String? = nil,
        chapAlgorithms: [CHAPAlgorithm]? = nil
    ) throws -> ISCSISessionConfiguration {
        var proposal = OperationalProposal()
        if headerDigest { proposal.headerDigests = [.crc32c] }
        if dataDigest { proposal.dataDigests = [.crc32c] }
        return ISCSISessionConfiguration(
            portal: portal,
            targetName: targetName,
            initiatorName: initiatorName,
            authentication: try authentication(
                user: user,
                urlPassword: password,
                urlTargetUser: targetUser,
                urlTargetPassword: targetPassword,
                urlAlgorithms: chapAlgorithms
            ),
            proposal: proposal,
            // The TCP connect is part of the login's time.
            connectTimeout: .seconds(Int64(min(loginTimeout, 10))),
            loginTimeout: .seconds(Int64(loginTimeout)),
            source: try connectionSource()
        )
    }

    func sessionConfiguration(for url: ISCSITargetURL) throws -> ISCSISessionConfiguration {
        try sessionConfiguration(
            portal: url.portal,
            targetName: url.targetName,
            user: url.user,
            password: url.password,
            targetUser: url.targetUser,
            targetPassword: url.targetPassword,
            chapAlgorithms: try url.chapOffer()
        )
    }
}

extension TargetOptions {
    /// The libiscsi engine's settings for `url`: the same initiator name, CHAP
    /// (from the URL or the secret options), header digest and login timeout.
    func libiscsiConfiguration(for url: ISCSITargetURL) throws -> LibISCSIConfiguration {
        var chap: LibISCSIConfiguration.CHAP?
        switch try authentication(
            user: url.user,
            urlPassword: url.password,
            urlTargetUser: url.targetUser,
            urlTargetPassword: url.targetPassword,
            urlAlgorithms: try url.chapOffer()
        ) {
        case .none:
            chap = nil
        case .chap(let credentials, let mutual, let algorithms):
            guard algorithms.contains(.md5) else {
                throw CLIError(
                    "libiscsi offers CHAP with MD5 only, and the CHAP algorithms allowed here leave it out; use --engine native",
                    exitCode: CLIExitCode.usage
                )
            }
            chap = LibISCSIConfiguration.CHAP(
                user: credentials.user,
                secret: try Self.text(of: credentials.secret, purpose: "CHAP secret"),
                targetUser: mutual?.user,
                targetSecret: try mutual.map { try Self.text(of: $0.secret, purpose: "target CHAP secret") }
            )
        }
        return LibISCSIConfiguration(
            initiatorName: initiatorName,
            chap: chap,
            headerDigest: headerDigest ? .crc32c : LibISCSIConfiguration.HeaderDigest.none,
            loginTimeout: .seconds(Int64(loginTimeout)),
            source: try connectionSource()
        )
    }

    /// libiscsi takes secrets as C strings, so a binary secret cannot be handed over.
    private static func text(of secret: [UInt8], purpose: String) throws -> String {
        guard !secret.contains(0), let text = String(validating: secret, as: UTF8.self) else {
            throw CLIError("the \(purpose) is not plain text; libiscsi takes text secrets only: use --engine native", exitCode: CLIExitCode.usage)
        }
        return text
    }

    /// `url` as the libiscsi engine gets it: the credentials and the header digest travel in
    /// the configuration instead.
    static func libiscsiURL(_ url: ISCSITargetURL) -> ISCSITargetURL {
        ISCSITargetURL(endpoint: url.endpoint, targetName: url.targetName, lun: url.lun)
    }
}

/// Parses a target URL argument, turning a parse failure into a usage error that says what is wrong.
func parseTargetURL(_ text: String) throws -> ISCSITargetURL {
    do {
        let url = try ISCSITargetURL(parsing: text)
        _ = try url.chapOffer()
        return url
    } catch let error as ISCSIError {
        throw ValidationError(error.message)
    } catch {
        throw ValidationError("\(error)")
    }
}
