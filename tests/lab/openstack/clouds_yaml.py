"""Merge clouds into, or drop them from, the lab's clouds.yaml (kept 0600: it holds secrets).

Usage: clouds_yaml.py PATH set JSON_FILE      (JSON: {"cloud-name": {...}, ...})
       clouds_yaml.py PATH remove NAME...
Each lab component owns its own cloud names; others' entries are left as they are.
"""
import fcntl
import json
import os
import sys

import yaml


def update(path, change):
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as f:
                data = yaml.safe_load(f) or {}
        except FileNotFoundError:
            data = {}
        clouds = data.setdefault("clouds", {})
        change(clouds)
        if not clouds:
            if os.path.exists(path):
                os.unlink(path)
            return
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# Written by tests/lab/{neutron,keystone}.sh; holds secrets (mode 0600).\n")
            yaml.safe_dump(data, f, default_flow_style=False, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def main(argv):
    path, verb, args = argv[1], argv[2], argv[3:]
    if verb == "set":
        with open(args[0]) as f:
            new = json.load(f)
        update(path, lambda clouds: clouds.update(new))
    elif verb == "remove":
        update(path, lambda clouds: [clouds.pop(name, None) for name in args])
    else:
        raise SystemExit("usage: clouds_yaml.py PATH set JSON_FILE | remove NAME...")


if __name__ == "__main__":
    main(sys.argv)
