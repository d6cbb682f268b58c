// Every CHAP secret the export and daemon tests use, in one place: after a run, Scripts/test
// (through Scripts/check-secrets) greps the test output and the transcript of our child
// processes' stderr for each of them, and fails naming the file and line where one shows.
// A secret must never reach a log line, an error message, a command line or a serial number.
//
// Scripts/check-secrets reads the quoted values between the BEGIN and END lines, so keep one
// `public static let name = "value"` per line there. Values shorter than 8 bytes (the
// deliberately short ones the hygiene tests refuse) would match ordinary text and are not
// listed; they live in their tests.

public enum TestSecrets {
    // BEGIN TEST SECRETS
    /// The export's initiator account in the in-process export tests.
    public static let alice = "alice-secret-1"
    /// What the export answers mutual CHAP with in those tests.
    public static let exportMutual = "export-secret-2"
    /// A second initiator account (SendTargets filtering).
    public static let bob = "bob-secret-123"
    /// Wrong secrets an initiator tries: they must not show either.
    public static let wrong = "not-the-secret"
    public static let wrongLong = "not-the-secret-1"
    public static let wrongTarget = "a-wrong-target-secret"
    /// The backend target's secret in the secret-hygiene test.
    public static let backend = "Backend-Secret-7Qz9"
    /// A long enough secret in a file that is too open.
    public static let openFile = "a-good-long-secret"
    /// The daemon's export account (secrets file entry `vm1-export`).
    public static let daemonExport = "export-secret-16"
    /// Entries of daemon secrets files in the config tests.
    public static let daemonLUN = "s3cret-s3cret"
    public static let daemonClient = "client-secret-16b"
    public static let daemonExportMutual = "export-secret-16b"
    public static let daemonTargetInitiator = "alice-secret-16"
    public static let daemonTargetMutual = "target-secret-16"
    public static let elevenBytes = "elevenbytes"
    /// The login state machine's unit tests.
    public static let stateMachineInitiator = "initiator-secret"
    public static let stateMachineTarget = "target-secret-12"
    /// The fake target that refuses every CHAP answer.
    public static let downgrade = "alice-secret-downgrade"
    // END TEST SECRETS

    /// Every value above.
    public static let all: [String] = [
        alice, exportMutual, bob, wrong, wrongLong, wrongTarget, backend, openFile, daemonExport, daemonLUN,
        daemonClient, daemonExportMutual, daemonTargetInitiator, daemonTargetMutual, elevenBytes,
        stateMachineInitiator, stateMachineTarget, downgrade,
    ]
}
