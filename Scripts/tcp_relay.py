#!/usr/bin/env python3
"""A TCP relay that does nothing but move bytes: the floor under any process that sits between
an iSCSI client and its target. Used by Scripts/bench-export to show how much of the direct
throughput is left for a store-and-forward hop on this machine, before any SCSI work.

    tcp_relay.py --listen 127.0.0.1:PORT --to 127.0.0.1:PORT [--mode splice|copy]

Each accepted connection gets its own connection to --to and two pump threads, one per
direction. `splice` moves the bytes socket -> pipe -> socket inside the kernel (splice(2), no
copy into this process); `copy` reads into one 1 MiB buffer and writes it out, as a user-space
proxy does. Both set TCP_NODELAY, as iSCSI initiators and targets do. Prints one line,
"listening HOST:PORT", once it accepts; runs until SIGTERM.
"""
import argparse
import fcntl
import os
import signal
import socket
import sys
import threading

CHUNK = 1 << 20
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named in the module only from Python 3.10 on some builds


def endpoint(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def pump_splice(source, sink):
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, F_SETPIPE_SZ, CHUNK)
    except OSError:
        pass  # an unprivileged pipe limit: the default 64 KiB pipe still works, in smaller steps
    try:
        while True:
            moved = os.splice(source.fileno(), write_end, CHUNK, flags=os.SPLICE_F_MOVE)
            if moved == 0:
                break
            while moved:
                moved -= os.splice(read_end, sink.fileno(), moved, flags=os.SPLICE_F_MOVE)
    except OSError:
        pass
    finally:
        os.close(read_end)
        os.close(write_end)
        finish(source, sink)


def pump_copy(source, sink):
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        while True:
            count = source.recv_into(buffer)
            if count == 0:
                break
            sink.sendall(view[:count])
    except OSError:
        pass
    finally:
        finish(source, sink)


def finish(source, sink):
    """One direction ended: pass the end on, so the other side sees it too."""
    for sock, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
        try:
            sock.shutdown(how)
        except OSError:
            pass


def serve(client, upstream_address, pump):
    try:
        upstream = socket.create_connection(upstream_address, timeout=10)
    except OSError as error:
        print(f"tcp_relay: cannot reach {upstream_address[0]}:{upstream_address[1]}: {error}", file=sys.stderr)
        client.close()
        return
    upstream.settimeout(None)
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pumps = [threading.Thread(target=pump, args=pair, daemon=True) for pair in ((client, upstream), (upstream, client))]
    for thread in pumps:
        thread.start()
    for thread in pumps:
        thread.join()
    client.close()
    upstream.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=endpoint, required=True)
    parser.add_argument("--to", type=endpoint, required=True)
    parser.add_argument("--mode", choices=("splice", "copy"), default="splice")
    args = parser.parse_args()
    if args.listen[0] != "127.0.0.1" and not args.listen[0].startswith("127."):
        parser.error("--listen must be a loopback address")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    pump = pump_splice if args.mode == "splice" else pump_copy
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(args.listen)
    listener.listen(16)
    print(f"listening {args.listen[0]}:{listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, args.to, pump), daemon=True).start()


if __name__ == "__main__":
    main()
