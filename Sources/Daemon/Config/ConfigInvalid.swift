// Every problem found in one pass over a config, thrown together so a person fixes them at once.

/// The config was refused; `errors` lists each problem in file order.
public struct ConfigInvalid: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
