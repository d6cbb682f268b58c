// Runs a blocking test helper on a thread of its own, keeping the concurrency pool free.

import Foundation

/// The test helpers block in poll() and waitpid(); on a 2-core machine the cooperative pool has
/// two threads, and blocking them would starve the very services the tests are waiting for.
public enum OffPool {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
