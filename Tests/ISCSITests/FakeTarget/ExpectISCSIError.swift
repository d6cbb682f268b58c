// One check for the fake-target tests: an error is an ISCSIError of this code and scope, naming the problem.

import ISCSI
import Testing

/// Records an issue unless `error` is an `ISCSIError` with `code`, `scope` and a message containing every fragment.
func expectISCSIError(
    _ error: any Error,
    _ code: ISCSIError.Code,
    _ scope: ISCSIError.Scope,
    _ fragments: String...,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectISCSIError(error, code, scope, fragments: fragments, sourceLocation: sourceLocation)
}

func expectISCSIError(
    _ error: any Error,
    _ code: ISCSIError.Code,
    _ scope: ISCSIError.Scope,
    fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = error as? ISCSIError else {
        Issue.record("expected an ISCSIError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return
    }
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    #expect(error.scope == scope, "\(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
    }
}
