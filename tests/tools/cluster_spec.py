# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the YAML copies of the cluster spec from port_model.CLUSTER_SCHEMA.

    python tests/tools/cluster_spec.py          # rewrite the doc fragment and the roles' entries
    python tests/tools/cluster_spec.py --check  # exit 1 when a copy has drifted

Ansible reads a doc fragment and a role's meta/argument_specs.yml as static YAML, so the
schema cannot be imported there; these copies are generated instead, and
tests/unit/plugins/module_utils/test_cluster_spec.py fails when one differs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
if str(REPO / ".build" / "collections") not in sys.path:
    sys.path.insert(0, str(REPO / ".build" / "collections"))

from ansible_collections.safespring.netsec.plugins.module_utils.port_model import CLUSTER_SCHEMA  # noqa: E402 pylint: disable=wrong-import-position

FRAGMENT = REPO / "plugins" / "doc_fragments" / "cluster_spec.py"
# role -> its variable holding the cluster spec
ROLE_VARS = {
    "security_groups": "security_groups_cluster",
    "haproxy": "haproxy_cluster",
    "cilium": "cilium_cluster",
    "talos_hardening": "talos_hardening_cluster",
}
_OPTION_INDENT = 6  # argument_specs.main.options.<var>

_FRAGMENT_HEAD = '''# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # GENERATED from port_model.CLUSTER_SCHEMA by tests/tools/cluster_spec.py; do not edit.
    # Modules whose cluster option is required add safespring.netsec.cluster_spec.REQUIRED.
'''


class _Dumper(yaml.SafeDumper):
    """Block mappings, lists of scalars in flow style (`choices: [bgp, vrrp, none]`), as the hand-written files."""


_Dumper.add_representer(dict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False))
_Dumper.add_representer(list, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=not any(isinstance(item, (dict, list)) for item in data)))


def _dump(data, indent=0):
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
    return "".join((" " * indent + line) if line.strip() else line for line in text.splitlines(True))


def fragment_docs():
    return {"DOCUMENTATION": {"options": {"cluster": CLUSTER_SCHEMA.doc(required=False)}},
            "REQUIRED": {"options": {"cluster": {"required": True}}}}


def fragment_text():
    parts = [_FRAGMENT_HEAD]
    for name, doc in fragment_docs().items():
        parts.append('    %s = r"""\n%s"""\n' % (name, _dump(doc)))
    return "\n".join(parts)


def role_spec():
    return CLUSTER_SCHEMA.argument_spec(required=True)


def role_text(text, var):
    """`text` (a meta/argument_specs.yml) with the entry of `var` replaced by the generated one."""
    lines = text.splitlines(True)
    head = " " * _OPTION_INDENT + var + ":"
    start = next(i for i, line in enumerate(lines) if line.rstrip() == head)
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > _OPTION_INDENT):
        end += 1
    return "".join(lines[:start]) + _dump({var: role_spec()}, _OPTION_INDENT) + "".join(lines[end:])


def expected_files():
    out = {FRAGMENT: fragment_text()}
    for role, var in ROLE_VARS.items():
        path = REPO / "roles" / role / "meta" / "argument_specs.yml"
        out[path] = role_text(path.read_text(), var)
    return out


def main(argv):
    drifted = [path for path, text in expected_files().items() if not path.exists() or path.read_text() != text]
    if "--check" in argv:
        for path in drifted:
            print("%s differs from port_model.CLUSTER_SCHEMA; run tests/tools/cluster_spec.py" % path.relative_to(REPO))
        return 1 if drifted else 0
    for path, text in expected_files().items():
        if path in drifted:
            path.write_text(text)
            print("wrote %s" % path.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
