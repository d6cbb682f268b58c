// Why a scratch target could not be started or configured.

struct TargetError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
