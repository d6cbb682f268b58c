// Which initiator engine a `vdiskctl target` command logs in with: the native Swift one,
// or libiscsi behind the same BlockDevice face (the cross-check and the benchmark baseline).

import ArgumentParser

enum TargetEngine: String, ExpressibleByArgument, CaseIterable, Sendable {
    case native
    case libiscsi
}
