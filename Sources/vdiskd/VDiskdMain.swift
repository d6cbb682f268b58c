// vdiskd: a thin entry point; the daemon lives in the Daemon target.

import Daemon

@main
enum VDiskdMain {
    static func main() async {
        await VDiskdCommand.main()
    }
}
