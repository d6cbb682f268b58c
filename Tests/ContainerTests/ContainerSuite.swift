// Every container test runs one after another: each boots up to three machines, and two labs
// at once on a loaded 2-core machine would stretch the timings the tests check (watchdog,
// leases, takeover).

import Testing

@Suite(.serialized) enum ContainerSuite {}
