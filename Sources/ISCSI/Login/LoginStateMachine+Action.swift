// What the login state machine asks its channel handler to do (RFC 7143 §6.3).

import NIOCore

extension LoginStateMachine {
    /// The single thing the caller must do after an event.
    public enum Action: Sendable, Equatable {
        /// Write this Login Request (immediate, as every login PDU is).
        case sendLoginRequest(LoginRequest)
        /// Login is complete; the connection is in full feature phase.
        case succeeded(LoginResult)
        /// Status class 1 (RFC 7143 §11.13.5): close and log in at this address instead.
        /// `permanent` says to remember it for future sessions too.
        case redirect(host: String, port: Int, permanent: Bool)
        /// Login failed; close the connection. The error's scope says whether to retry.
        case failed(ISCSIError)
        /// The timer fired early: arm it again for this much longer.
        case armTimer(remaining: TimeAmount)
        /// Nothing to do (e.g. a late timer after login ended).
        case wait

        public static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case (.sendLoginRequest(let a), .sendLoginRequest(let b)): a == b
            case (.succeeded(let a), .succeeded(let b)): a == b
            case (.redirect(let h1, let p1, let m1), .redirect(let h2, let p2, let m2)): h1 == h2 && p1 == p2 && m1 == m2
            // ISCIError is not Equatable; code, scope and message together identify it.
            case (.failed(let a), .failed(let b)): a.code == b.code && a.scope == b.scope && a.message == b.message
            case (.armTimer(let a), .armTimer(let b)): a == b
            case (.wait, .wait): true
            case (.sendLoginRequest, _), (.succeeded, _), (.redirect, _), (.failed, _), (.armTimer, _), (.wait, _): false
            }
        }
    }
}
