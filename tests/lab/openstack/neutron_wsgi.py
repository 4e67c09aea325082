"""gunicorn entry point for the lab's Neutron API (neutron 29 has no neutron-server).

oslo.config parses sys.argv, which here holds gunicorn's own flags: hand it none. The config
files come from OS_NEUTRON_CONFIG_DIR / OS_NEUTRON_CONFIG_FILES (set by tests/lab/openstack/lib.sh).
"""
import sys

__all__ = ["application"]

sys.argv = ["neutron-api"]

from neutron.wsgi.api import application  # noqa: E402,F401  pylint: disable=wrong-import-position
