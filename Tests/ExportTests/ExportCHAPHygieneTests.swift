// CHAP hygiene at the export: a short secret and one secret for both directions keep the
// export from starting; failed logins from one address are turned away (0x0301) once
// they pass the limit, even with the right secret. That the window ends is shown on the
// throttle itself with a given clock (LoginFailureThrottleTests): a wall-clock window in a
// test on a loaded machine either takes long or is used up before the test gets to it.

import Export
import Foundation
import ISCSI
import NIOCore
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct ExportCHAPHygieneTests {
    static let alice = CHAPCredentials(user: "alice", secret: TestSecrets.alice)

    @Test func aShortSecretOrOneSecretBothWaysKeepsTheExportFromStarting() async throws {
        let short = TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: "abc"))
        let sameBothWays = TargetAccessPolicy(chap: Self.alice, mutualCHAP: CHAPCredentials(user: "export", secret: TestSecrets.alice))
        for (policy, fragment) in [(short, "has 3 bytes; use at least 12"), (sameBothWays, "use a different secret for each direction")] {
            do {
                let harness = try await ExportHarness.start(access: policy)
                await harness.stop()
                Issue.record("the export started with a policy it must refuse (\(fragment))")
            } catch let error as ISCSIError {
                #expect(error.message.contains(fragment), "\(error.message)")
                #expect(!error.message.contains(TestSecrets.alice) && !error.message.contains("abc;"))
            }
        }
    }

    @Test func failedLoginsFromOneAddressAreTurnedAwayWhileTheWindowLasts() async throws {
        try await ExportHarness.with(access: TargetAccessPolicy(chap: Self.alice), configure: { configuration in
            configuration.maximumFailedLogins = 3
            // Far longer than the test, so a stalled machine cannot end it under the test's feet.
            configuration.failedLoginWindow = .seconds(600)
        }) { harness in
            // SHA-256 only, so each attempt is one login.
            let wrong = LoginAuthentication.chap(CHAPCredentials(user: "alice", secret: TestSecrets.wrong), mutual: nil, algorithms: [.sha256])
            for attempt in 1...3 {
                do {
                    _ = try await harness.session(authentication: wrong)
                    Issue.record("attempt \(attempt) with the wrong secret logged in")
                } catch let error as ISCSIError {
                    #expect(error.code == .authenticationFailed, "attempt \(attempt): \(error)")
                }
            }
            // The limit is reached: even the right secret is turned away, without being checked.
            let right = LoginAuthentication.chap(Self.alice, mutual: nil, algorithms: [.sha256])
            do {
                _ = try await harness.session(authentication: right)
                Issue.record("a login from a throttled address got in")
            } catch let error as ISCSIError {
                #expect(error.code != .authenticationFailed, "turned away, not judged: \(error)")
                #expect("\(error)".contains("0x0301") || "\(error)".lowercased().contains("unavailable"), "\(error)")
            }
        }
    }
}
