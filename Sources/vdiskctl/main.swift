// vdiskctl: a thin entry point; the commands live in VDiskCLI.
import VDiskCLI

await VDiskCtl.main()
