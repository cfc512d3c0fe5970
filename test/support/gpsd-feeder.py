#!/usr/bin/python3
"""The real gpsd, fed generated NMEA logs through a pty at the host times the logs name.

Built on gpsfake's engine (python3-gps's gps/fake.py; the gpsfake script itself is in gpsd-clients, not installed):
DaemonInstance starts gpsd (-N -b -n, its own control socket, a per-port SHM key) and FakePTY makes the pty with
gpsfake's serial settings. gpsfake replays a log as fast as it can; a time test needs each second's sentences
written when that second (plus the receiver's lateness) comes, so the pacing is ours: a log block after
"# send-at <ms>" is written at that host time.

Run by test/support/gpsd-harness.ts with Debian's /usr/bin/python3. Commands on stdin, one JSON object a line:
  {"op": "play", "file": "<log>"}      plays a log in the background, then says {"event": "played", ...}
  {"op": "stop-gpsd", "signal": "KILL"} stops (TERM) or kills gpsd, then says {"event": "gpsd-stopped"}
  {"op": "start-gpsd"}                  starts gpsd again on the same port with the same pty
  {"op": "quit"}
Events on stdout, one JSON object a line; first {"event": "ready", "port": ..., "device": ..., "gpsdPid": ...}.
End of stdin (the test process died), SIGTERM or SIGINT: gpsd is stopped and the feeder exits.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from gps import fake  # noqa: E402

LOCK = threading.Lock()


def say(**event):
    with LOCK:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Load:
    """What FakePTY wants of a gpsfake TestLoad: the pacing is ours, so no sentences here."""

    def __init__(self, name):
        self.name = name
        self.sentences = []
        self.serial = None
        self.delay = 0.0


def blocks_of(path):
    """[(send_at_seconds, bytes)] of a log: each block after its '# send-at <ms>' line."""
    out = []
    current = None
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\r\n")
            if line.startswith(b"# send-at "):
                current = [float(line.split()[2]) / 1000.0, b""]
                out.append(current)
            elif line.startswith(b"#") or not line:
                continue
            elif current is not None:
                current[1] += line + b"\r\n"
    return [(t, data) for t, data in out]


class Feeder:
    def __init__(self, workdir, port, start):
        self.workdir = workdir
        self.port = port or fake.freeport()
        self.control = os.path.join(workdir, "gpsd.sock")
        self.daemon = None
        self.pty = fake.FakePTY(Load("generated"), speed=38400)
        self.stopping = False
        if start:
            self.start_gpsd()

    def start_gpsd(self):
        if self.daemon is not None and self.daemon.is_alive():
            return
        if os.path.exists(self.control):
            os.unlink(self.control)
        self.daemon = fake.DaemonInstance(control_socket=self.control)
        # -n: open the pty at once, not when a client first watches (as a Pi's gpsd with a receiver plugged in);
        # -D 1: its warnings (a mended week rollover, a bad sentence) on stderr, for the harness's log.
        # setpriv (util-linux) execs gpsd with a parent-death signal: a feeder killed outright leaves no gpsd behind.
        prefix = "setpriv --pdeathsig KILL" if shutil.which("setpriv") else ""
        self.daemon.spawn(options="-n -D 1", port=self.port, background=True, prefix=prefix)
        self.daemon.wait_ready()
        self.daemon.add_device(self.pty.byname)

    def stop_gpsd(self, sig):
        d = self.daemon
        if d is None or d.process is None:
            return
        if sig == "KILL":
            d.process.kill()
            d.process.wait()
        else:
            d.kill()
        self.daemon = None

    def gpsd_pid(self):
        return self.daemon.process.pid if self.daemon and self.daemon.process else None

    def play(self, path):
        late = []
        for at, data in blocks_of(path):
            if self.stopping:
                return
            while True:
                left = at - time.time()
                if left <= 0:
                    break
                time.sleep(min(left, 0.05) if left > 0.002 else 0.0005)
            late.append((time.time() - at) * 1000.0)
            try:
                os.write(self.pty.fd, data)
            except OSError as e:
                say(event="error", message="writing the pty: %s" % e)
                return
            # gpsd only reads while it runs; without it the pty's buffer would keep stale seconds for the next gpsd.
            if self.daemon is None:
                fake.termios.tcflush(self.pty.slave_fd, fake.termios.TCIFLUSH)
        say(event="played", file=path, blocks=len(late), lateMaxMs=max(late) if late else 0.0)

    def close(self):
        self.stopping = True
        self.stop_gpsd("TERM")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-gpsd", action="store_true", help="reserve the port, start gpsd only when told")
    args = parser.parse_args()
    feeder = Feeder(args.dir, args.port, not args.no_gpsd)

    def bye(*_):
        feeder.close()
        # The folder is the feeder's alone (the harness made it for this run): gone with it, even if the test died.
        shutil.rmtree(args.dir, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    say(event="ready", port=feeder.port, device=feeder.pty.byname, gpsdPid=feeder.gpsd_pid())
    for line in sys.stdin:
        try:
            cmd = json.loads(line)
        except ValueError:
            say(event="error", message="not JSON: %r" % line)
            continue
        op = cmd.get("op")
        if op == "play":
            threading.Thread(target=feeder.play, args=(cmd["file"],), daemon=True).start()
        elif op == "stop-gpsd":
            feeder.stop_gpsd(cmd.get("signal", "TERM"))
            say(event="gpsd-stopped")
        elif op == "start-gpsd":
            feeder.start_gpsd()
            say(event="gpsd-started", gpsdPid=feeder.gpsd_pid())
        elif op == "quit":
            break
        else:
            say(event="error", message="unknown op %r" % op)
    bye()


if __name__ == "__main__":
    main()
