// A test-harness failure around a child process: it hung, or never printed what it should.

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
