"""gunicorn entry point for the lab's Keystone.

oslo.config parses sys.argv, which here holds gunicorn's own flags: hand it none. The config
file comes from OS_KEYSTONE_CONFIG_DIR / OS_KEYSTONE_CONFIG_FILES (set by tests/lab/keystone.sh).
"""
import sys

__all__ = ["application"]

sys.argv = ["keystone-api"]

from keystone.wsgi.api import application  # noqa: E402,F401  pylint: disable=wrong-import-position
