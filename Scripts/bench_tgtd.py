"""A private tgtd on loopback for the benchmark scripts: started on a free port with its own
control socket, given one target with the LUNs asked for, and always stopped again."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tgtd:
    """A private tgtd on loopback serving one target `iqn` with LUNs given as
    (number, bytes, thin); bytes None makes a null-backed LUN (reads return zeros)."""

    def __init__(self, workdir, luns, iqn):
        self.iqn = iqn
        self.control = 800 + os.getpid() % 90
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["tgtd", "-f", "-C", str(self.control), "--iscsi", f"portal=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if self.adm("--op", "show", "--mode", "sys", check=False) == 0:
                    break
                time.sleep(0.1)
            else:
                raise SystemExit("tgtd did not start")
            self.adm("--op", "new", "--mode", "target", "--tid", "1", "-T", iqn)
            for number, size, thin in luns:
                if size is None:
                    self.adm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", str(number),
                             "--bstype", "null", "-b", "/dev/null")
                    continue
                image = os.path.join(workdir, f"lun{number}.img")
                with open(image, "wb") as f:
                    f.truncate(size)
                self.adm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", str(number), "-b", image)
                if thin:
                    self.adm("--op", "update", "--mode", "logicalunit", "--tid", "1", "--lun", str(number),
                             "--params", "thin_provisioning=1")
            self.adm("--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL")
        except BaseException:
            self.stop()
            raise

    def adm(self, *args, check=True):
        rc = subprocess.call(["tgtadm", "-C", str(self.control), "--lld", "iscsi", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if check and rc != 0:
            raise SystemExit(f"tgtadm {' '.join(args)} failed with {rc}")
        return rc

    def url(self, lun):
        return f"iscsi://127.0.0.1:{self.port}/{self.iqn}/{lun}"

    def stop(self):
        # tgtd ignores SIGTERM: delete the target and the system, then make sure.
        self.adm("--op", "delete", "--mode", "target", "--tid", "1", "--force", check=False)
        self.adm("--op", "delete", "--mode", "system", check=False)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        for suffix in ("", ".lock"):
            try:
                os.unlink(f"/var/run/tgtd/socket.{self.control}{suffix}")
            except FileNotFoundError:
                pass


def write_marked_section(path, report, begin, end, heading):
    """Replaces the text between `begin` and `end` in the file at `path` with `report`, or
    appends `heading` and the marked report when the markers are not there yet."""
    with open(path) as f:
        text = f.read()
    block = f"{begin}\n{report}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + heading + f"{block}\n"
    with open(path, "w") as f:
        f.write(text)
