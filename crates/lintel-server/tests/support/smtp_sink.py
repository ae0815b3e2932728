"""A real SMTP server for Lintel's tests: accepts every message and writes it, with its
envelope recipients, to a file in the directory given. Prints `PORT <n>` once listening and
stops when its standard input closes (when the test that started it ends)."""

import itertools
import pathlib
import socket
import sys

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, out):
        self.out = out
        self.numbers = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        path = self.out / f"{next(self.numbers):04}.eml"
        partial = path.with_suffix(".part")
        rcpt = ",".join(envelope.rcpt_tos).encode()
        partial.write_bytes(b"X-Envelope-To: " + rcpt + b"\r\n" + envelope.original_content)
        partial.rename(path)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    controller = Controller(Keep(out), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
