// A test-side failure to set up or inspect a shared LUN.

struct SharedLUNError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
