// The parent of every suite that runs the initiator engines against real targets: serialized,
// so a few daemons run at a time on two shared cores rather than dozens that time out starting.

import Testing

@Suite("Initiator engines", .serialized)
enum InitiatorEngineTests {}
