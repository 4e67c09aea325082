"""Stand-in for ansible-test's downloaded get-pip bootstrap (no download host is reachable).

ansible-test runs `python get_pip.py [pip options] pip==X ...` inside each empty venv it
creates. This does the same from the package registry: ensurepip, then pip install.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
