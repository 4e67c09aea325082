"""Lab stand-in for a maintenance that restarts haproxy (the tests' LBs run haproxy as a plain
process, not a unit): soft-stop the running master (SIGUSR1: finish the sessions, then exit),
start a new one with the same argv[0] (its process name is what keepalived's track_process counts), write its
pid, wait until the health frontend answers.

    lab_haproxy_restart.py MASTER_SOCKET CONFIG PIDFILE LOG HEALTH_URL
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def master_pid(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(path)
        conn.sendall(b"show proc; quit\n")
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode().splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[1] == "master":
            return int(parts[0])
    raise SystemExit("no master in show proc")


def alive(pid):
    """Running (a zombie - exited, not yet reaped by the test that started it - is not)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(master, config, pidfile, log, health):
    pid = master_pid(master)
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        executable = handle.read().split(b"\0")[0].decode()
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.05)
    else:
        raise SystemExit("haproxy %d did not stop" % pid)
    if os.path.exists(master):
        os.unlink(master)
    with open(log, "ab") as out:
        proc = subprocess.Popen([executable, "-Ws", "-f", config, "-S", "%s,mode,600" % master], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pidfile, "a") as handle:
        handle.write("%d\n" % proc.pid)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(health, timeout=1).status == 200:
                print("restarted haproxy: %d -> %d" % (pid, proc.pid))
                return 0
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the new haproxy does not answer %s" % health)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
