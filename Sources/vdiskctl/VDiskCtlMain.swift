// vdiskctl: a thin entry point; the commands live in VDiskCLI.

import VDiskCLI

/// An async `main` rather than top-level code: there, `VDiskCtl.main()` resolves to the
/// synchronous ParsableCommand.main(), which refuses to run asynchronous subcommands.
@main
enum VDiskCtlMain {
    static func main() async {
        await VDiskCtl.main()
    }
}
