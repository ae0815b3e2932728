"""An OSDP reader for the controller's tests: PyPI's libosdp PeripheralDevice (a complete
reader, independent of the controller's code) on the far end of a pseudo-terminal.

    python3 osdp_reader.py --address 1 [--key HEX]

With no --key it holds only the well-known default key (SCBK-D), as a reader out of its box.
It prints JSON lines: first {"port": "/dev/pts/N"} (the controller's end of the line), then
every command the controller sends ({"command": {..., "name": "LED", "color": "Green"}}), and
a line for each request it takes on stdin (one JSON object a line):

    {"card": {"bits": 26, "hex": "0246073"}}   a card read (raw Wiegand bits)
    {"keys": "480213#"}                        keys pressed (`*` and `#` as OSDP sends them)
    {"tamper": true}                           a local status report: case opened (or closed)
    {"unplug": true} / {"plug": true}          stop answering / answer again
    {"state": true}                            answers {"online": …, "secure": …, "bytes_in": …,
                                               "bytes_out": …, "replies": …}

Times ("t", and a card's "at", taken just before it is handed to LibOSDP) are CLOCK_MONOTONIC
seconds.
"""

import argparse
import json
import os
import sys
import threading
import time
import tty

import osdp


def say(**fields):
    fields["t"] = time.monotonic()
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Line(osdp.Channel):
    """The reader's end of the pseudo-terminal; unplugged, it hears and says nothing. It
    counts the bytes each way and its replies (one write each), for the benchmark."""

    def __init__(self, fd):
        super().__init__()
        self.fd = fd
        self.plugged = True
        self.bytes_in = self.bytes_out = self.replies = 0

    def read(self, max_bytes):
        try:
            data = os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""
        if not self.plugged:
            return b""
        self.bytes_in += len(data)
        return data

    def write(self, buf):
        if not self.plugged:
            return len(buf)
        try:
            written = os.write(self.fd, buf)
        except BlockingIOError:
            return 0
        self.bytes_out += written
        self.replies += 1
        return written

    def flush(self):
        pass


def as_json(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", type=int, default=1)
    parser.add_argument("--key", default=None)
    args = parser.parse_args()

    ours, theirs = os.openpty()
    tty.setraw(ours)
    tty.setraw(theirs)
    os.set_blocking(ours, False)
    line = Line(ours)
    key = bytes.fromhex(args.key) if args.key else None
    # A reader out of its box takes the default key (install mode) until given its own.
    flags = [] if key else [osdp.LibFlag.InstallMode]
    info = osdp.PDInfo(args.address, line, scbk=key, flags=flags, name="reader")
    caps = osdp.PDCapabilities([
        (osdp.Capability.CardDataFormat, 1, 1),
        (osdp.Capability.LEDControl, 1, 1),
        (osdp.Capability.AudibleControl, 1, 1),
        (osdp.Capability.CommunicationSecurity, 1, 1),
    ])
    pd = osdp.PeripheralDevice(info, caps, log_level=osdp.LogLevel.Warning)
    lock = threading.Lock()

    commands = {v: k for k, v in vars(osdp.Command).items() if not k.startswith("_")}
    colors = {v: k for k, v in vars(osdp.CommandLEDColor).items() if not k.startswith("_")}

    def command(cmd):
        # Named as the module names them: "LED" (with its "color"), "Buzzer", "Keyset", …
        named = {"name": commands.get(cmd["command"], str(cmd["command"]))}
        if "on_color" in cmd:
            named["color"] = colors.get(cmd["on_color"], str(cmd["on_color"]))
        say(command=dict(as_json(cmd), **named))
        return 0, None

    pd.set_command_handler(command)
    stop = threading.Event()

    def refresh():
        # As a reader's firmware would: promptly (LibOSDP's own helper sleeps 20 ms).
        while not stop.is_set():
            if line.plugged:
                with lock:
                    pd.ctx.refresh()
            time.sleep(0.001)

    thread = threading.Thread(target=refresh, daemon=True)
    thread.start()
    say(port=os.ttyname(theirs))

    for text in sys.stdin:
        request = json.loads(text)
        if "card" in request:
            bits = request["card"]["bits"]
            data = int(request["card"]["hex"], 16).to_bytes((bits + 7) // 8, "big")
            # Left-aligned, as Wiegand bits are sent: the first bit is the top bit.
            shift = (8 - bits % 8) % 8
            data = (int.from_bytes(data, "big") << shift).to_bytes(len(data), "big")
            event = {"event": osdp.Event.CardRead, "reader_no": 0, "direction": 0,
                     "format": osdp.CardFormat.Wiegand, "length": bits, "data": data}
            at = time.monotonic()
            with lock:
                ok = pd.ctx.submit_event(event)
            say(submitted="card", ok=bool(ok), at=at)
        elif "keys" in request:
            keys = request["keys"].replace("#", "\r").replace("*", "\x7f").encode()
            event = {"event": osdp.Event.KeyPress, "reader_no": 0, "data": keys}
            with lock:
                ok = pd.ctx.submit_event(event)
            say(submitted="keys", ok=bool(ok))
        elif "tamper" in request:
            # A local status report: tamper, then power (0: normal).
            opened = 1 if request["tamper"] else 0
            event = {"event": osdp.Event.Status, "type": osdp.StatusReportType.Local,
                     "nr_entries": 2, "report": bytes([opened, 0])}
            with lock:
                ok = pd.ctx.submit_event(event)
            say(submitted="tamper", ok=bool(ok))
        elif "unplug" in request:
            line.plugged = False
            say(unplugged=True)
        elif "plug" in request:
            line.plugged = True
            say(plugged=True)
        elif "state" in request:
            say(online=bool(pd.is_online()), secure=bool(pd.is_sc_active()),
                bytes_in=line.bytes_in, bytes_out=line.bytes_out, replies=line.replies)
    stop.set()


if __name__ == "__main__":
    main()
