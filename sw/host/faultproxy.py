"""A fault-injecting TCP proxy for a serial-over-TCP link (litex_sim's serial2tcp, ser2net, ...): it drops
and corrupts bytes in both directions, to test the host tool's framing, resends and uploads.

    with FaultProxy(target_port=P, drop=0.002, flip=0.002, seed=1) as proxy:   # listens on proxy.port
        Console(f"socket://127.0.0.1:{proxy.port}")
        proxy.faults                  # bytes dropped + corrupted so far; proxy.enabled = False: a clean link

    python -m sw.host.faultproxy --target 127.0.0.1:P --listen 5556 --drop 0.001 --flip 0.001
"""
from __future__ import annotations

import argparse
import random
import socket
import sys
import threading


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", listen_port: int = 0,
                 drop: float = 0.0, flip: float = 0.0, seed: int = 0):
        self.target = (target_host, target_port)
        self.drop, self.flip = drop, flip
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.enabled = True
        self.dropped = self.flipped = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", listen_port))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def faults(self) -> int:
        return self.dropped + self.flipped

    def _mangle(self, data: bytes) -> bytes:
        if not self.enabled:
            return data
        out = bytearray()
        with self.lock:
            for b in data:
                r = self.rng.random()
                if r < self.drop:
                    self.dropped += 1
                    continue
                if r < self.drop + self.flip:
                    self.flipped += 1
                    b ^= 1 << self.rng.randrange(8)
                out.append(b)
        return bytes(out)

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                dst.sendall(self._mangle(data))
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.srv.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv=None) -> int:
    from sw.cli import OneLineParser
    ap = OneLineParser(prog="python -m sw.host.faultproxy", description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the serial-over-TCP server")
    ap.add_argument("--listen", type=int, default=0, help="local port (default: a free one, printed)")
    ap.add_argument("--drop", type=float, default=0.001, help="probability of dropping each byte")
    ap.add_argument("--flip", type=float, default=0.001, help="probability of flipping a bit of each byte")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if not port.isdigit() or not 0 <= args.drop <= 1 or not 0 <= args.flip <= 1 or args.drop + args.flip > 1:
        ap.error("--target HOST:PORT, and --drop, --flip probabilities in [0, 1]")
    proxy = FaultProxy(int(port), host or "127.0.0.1", args.listen, args.drop, args.flip, args.seed)
    print(f"[faultproxy] socket://127.0.0.1:{proxy.port} -> {args.target} (drop {args.drop}, flip {args.flip}); "
          "Ctrl-C ends", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print(f"[faultproxy] {proxy.dropped} bytes dropped, {proxy.flipped} corrupted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
