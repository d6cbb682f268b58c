// One problem found in a config or secrets file, pinned to its file, line and key.

/// A config problem a person can fix: where it is and what is wrong.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in.
    public var file: String
    /// 1-based line, when the key (or its section) could be found in the text.
    public var line: Int?
    /// The key's path, such as `target[2].engine` (array entries are 1-based).
    public var key: String
    /// What is wrong and, where it helps, what to do.
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}
