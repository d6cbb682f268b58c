// What the target login responder asks its channel handler to do after each event.

extension TargetLoginStateMachine {
    public enum Action: Sendable, Equatable {
        /// Write this Login Response; the login goes on.
        case send(LoginResponse)
        /// Authentication and negotiation are done: find or make the session, then
        /// call `admitted(tsih:)` or `refused(_:reason:)`.
        case admit(TargetLoginCandidate)
        /// Write this final Login Response and close the connection.
        case refuse(LoginResponse, reason: String)
        /// Write this Login Response; the connection is in full feature phase.
        case loggedIn(LoginResponse, TargetLoginResult)
        /// Nothing to do (a late event after the login ended).
        case none
    }
}
