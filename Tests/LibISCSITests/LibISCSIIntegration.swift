// The parent of every suite that starts a real target: serialized, so targets do
// not compete for the two shared cores and CPU measurements see our work alone.

import Testing

@Suite("LibISCSI integration", .serialized)
enum LibISCSIIntegration {}
