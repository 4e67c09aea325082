# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security-group rules: normalisation, identity and the pure sync plan (no I/O).

The plan answers, for an environment's set of groups: which groups to create, update
or delete, and per group which rules to create, delete or keep. It is computed before
anything changes, shown as a diff, and is all check mode does.

Rule identity (`rule_key`) is at least as coarse as Neutron's own duplicate check
(neutron/db/securitygroups_db.py `_rule_to_key`): protocol names and numbers are one,
0.0.0.0/0 and ::/0 are "any", 1-65535 is "all ports", legacy IPv6 ICMP names are
ipv6-icmp; on top of that a CIDR is reduced to its network address (Neutron keeps
10.1.2.3/8 and 10.0.0.0/8 apart). So a rule we decide to create can never be a
duplicate in Neutron's eyes, and equivalent live spellings are kept, not replaced.
Descriptions are not part of the identity: Neutron rules are immutable and a
replacement would either collide (409) or open a gap.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import ipaddress
import re
from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

# IANA names Neutron accepts (neutron_lib.constants.IP_PROTOCOL_MAP) -> number.
PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1, "igmp": 2, "ipip": 4,
    "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
    "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
    "udplite": 136, "vrrp": 112,
}
PROTOCOL_ALIASES = {"icmpv6": "ipv6-icmp", "icmp6": "ipv6-icmp"}
PROTOCOL_NAMES = dict((num, name) for name, num in PROTOCOLS.items())
PORT_PROTOCOLS = (6, 17, 33, 132, 136)  # tcp udp dccp sctp udplite
ICMP_PROTOCOLS = (1, 58)
IPV6_ONLY_PROTOCOLS = (41, 43, 44, 58, 59, 60)
ANY_WORDS = ("any", "all", "-1", "")
DIRECTIONS = ("ingress", "egress")
ETHERTYPES = {"ipv4": "IPv4", "4": "IPv4", "ipv6": "IPv6", "6": "IPv6"}

RULE_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
               "remote_ip_prefix", "remote_group", "remote_group_id", "remote_address_group", "remote_address_group_id",
               "description", "port")
_RULE_KEYS = frozenset(RULE_FIELDS) | {"ether_type"}
REMOTE_KEYS = ("remote_ip_prefix", "remote_group", "remote_group_id", "remote_address_group", "remote_address_group_id")

# A rule as we compare it. protocol is the name Neutron stores for known protocols, else
# the number as a string; remote_group is a group NAME of the environment (None if the
# rule has none), remote_group_id an id outside the environment; remote_address_group and
# remote_address_group_id the same for Neutron address groups.
Rule = namedtuple("Rule", "direction ethertype protocol port_range_min port_range_max "
                          "remote_ip_prefix remote_group remote_group_id remote_address_group_id description "
                          "remote_address_group")
Rule.__new__.__defaults__ = (None,)  # remote_address_group: rules without address groups need not name it


# --- normalisation --------------------------------------------------------------------

@functools.lru_cache(maxsize=8192)
def _network(text):
    """ipaddress.ip_network, once per distinct text: an environment's rules repeat a few
    hundred CIDRs thousands of times (parse, identity, lint), and parsing was a third of a
    no-op run's CPU at 2,000 rules. Networks are immutable, so sharing them is safe."""
    return ipaddress.ip_network(text, strict=False)


def _is_any(value):
    return value is None or (not isinstance(value, bool) and str(value).strip().lower() in ANY_WORDS)


def normalize_protocol(value, field):
    """-> protocol number (int) or None for any; names, aliases and numbers are one."""
    if _is_any(value):
        return None
    if isinstance(value, bool):
        raise NetsecError("%r is not a protocol" % (value,), field=field)
    text = str(value).strip().lower()
    text = PROTOCOL_ALIASES.get(text, text)
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        # 0 is "any" for Neutron (hopopt/ip); refuse it so nobody opens everything by accident.
        if int(text) == 0:
            raise NetsecError("0 is ambiguous", field=field, fix="write 'any' to allow every protocol")
        return int(text)
    raise NetsecError("%r is not a known protocol" % (value,), field=field,
                      fix="use any, a number 1-255 or one of %s" % ", ".join(sorted(PROTOCOLS)))


def protocol_api_value(number):
    """The value we send and show: the IANA name Neutron knows, else the number as text."""
    if number is None:
        return None
    return PROTOCOL_NAMES.get(number, str(number))


def _int_or_none(value, field, what):
    if _is_any(value):
        return None
    if isinstance(value, bool):
        raise NetsecError("%r is not %s" % (value, what), field=field)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise NetsecError("%r is not %s" % (value, what), field=field)
    return number


def normalize_ports(protocol, raw_min, raw_max, field_min, field_max, written=None):
    """-> (port_range_min, port_range_max) in Neutron's canonical form.

    Ports protocols: 1-65535, max defaults to min, the full range is None/None.
    ICMP: min is the type, max the code (0-255 each; a code needs a type).
    Others: no ports at all.
    written: the `port` value when the user wrote `port:` (field_min and field_max are then
    both that key), so that errors quote what was written rather than the keys it became.
    """
    low = _int_or_none(raw_min, field_min, "a port number")
    high = _int_or_none(raw_max, field_max, "a port number")
    if protocol in PORT_PROTOCOLS:
        if low is None and high is None:
            return None, None
        if low is None:
            raise NetsecError("port_range_max without port_range_min", field=field_min, fix="set both, or neither for all ports")
        if high is None:
            high = low
        for value, fld in ((low, field_min), (high, field_max)):
            if value < 1 or value > 65535:
                raise NetsecError("%d is not a port (1-65535)" % value, field=fld)
        if low > high:
            if written is not None:
                raise NetsecError("%r runs from high to low" % (written,), field=field_min, fix="write %d-%d" % (high, low))
            raise NetsecError("%d is above port_range_max %d" % (low, high), field=field_min, fix="swap them")
        if (low, high) == (1, 65535):
            return None, None  # Neutron stores the full range as None/None
        return low, high
    if protocol in ICMP_PROTOCOLS:
        for value, fld, what in ((low, field_min, "ICMP type"), (high, field_max, "ICMP code")):
            if value is not None and (value < 0 or value > 255):
                raise NetsecError("%d is not an %s (0-255)" % (value, what), field=fld)
        if low is None and high is not None:
            raise NetsecError("an ICMP code needs a type", field=field_min, fix="set port_range_min to the ICMP type")
        return low, high
    if low is not None or high is not None:
        name = "any protocol" if protocol is None else protocol_api_value(protocol)
        raise NetsecError("%s has no ports" % name, field=field_min if low is not None else field_max,
                          fix="ports need tcp, udp, sctp, dccp or udplite; ICMP takes type/code here")
    return None, None


@functools.lru_cache(maxsize=8192)
def _cidr_text(text):
    """The network's canonical spelling, once per distinct text (str() of a network was a
    third of normalising 2,000 rules)."""
    return str(_network(text))


def normalize_cidr(value, field):
    try:
        return _cidr_text(str(value).strip())
    except ValueError:
        raise NetsecError("%r is not an IPv4/IPv6 address or CIDR" % (value,), field=field,
                          fix="write it like 192.0.2.0/24 or 2001:db8::/64")


def _ethertype(value, field):
    key = str(value).strip().lower()
    if key not in ETHERTYPES:
        raise NetsecError("%r is not IPv4 or IPv6" % (value,), field=field)
    return ETHERTYPES[key]


def _split_port(value, field):
    """`port: 443` or `port: "30000-32767"` -> (min, max)."""
    if _is_any(value):
        return None, None
    text = str(value).strip()
    if re.match(r"^\d+\s*-\s*\d+$", text):
        low, high = text.split("-")
        return low.strip(), high.strip()
    if re.match(r"^\d+$", text):
        return text, text
    raise NetsecError("%r is not a port or a range like 30000-32767" % (value,), field=field)


def normalize_rule(raw, field, group_names=(), default_ethertype="IPv4", address_group_names=()):
    """A user's rule (dict) -> Rule, or NetsecError naming the field. No I/O.

    group_names: the environment's group names a `remote_group` may name;
    address_group_names: its address groups a `remote_address_group` may name.
    """
    if not isinstance(raw, dict):
        raise NetsecError("must be a mapping", field=field)
    # field_path(field, key) for a str key, without its loop: built for every key of every rule.
    prefix_dot = field + "." if field else ""
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise NetsecError("unknown key(s) %s" % ", ".join(sorted(unknown)), field=field,
                          fix="known keys: %s" % ", ".join(RULE_FIELDS))
    direction = str(raw.get("direction") or "ingress").lower()
    if direction not in DIRECTIONS:
        raise NetsecError("%r is not ingress or egress" % (raw.get("direction"),), field=field_path(field, "direction"))

    prefix = raw.get("remote_ip_prefix")
    if prefix is not None and str(prefix).strip() != "":
        prefix = normalize_cidr(prefix, prefix_dot + "remote_ip_prefix")
    else:
        prefix = None
    remote_group = raw.get("remote_group") or None
    remote_group_id = raw.get("remote_group_id") or None
    address_group = raw.get("remote_address_group") or None
    address_group_id = raw.get("remote_address_group_id") or None
    for key, value in (("remote_group", remote_group), ("remote_group_id", remote_group_id),
                       ("remote_address_group", address_group), ("remote_address_group_id", address_group_id)):
        if value is not None and not isinstance(value, str):
            raise NetsecError("must be a name or an id (a string)", field=field_path(field, key))
    values = dict(remote_ip_prefix=prefix, remote_group=remote_group, remote_group_id=remote_group_id,
                  remote_address_group=address_group, remote_address_group_id=address_group_id)
    remotes = [k for k in REMOTE_KEYS if values[k]]
    if len(remotes) > 1:
        raise NetsecError("%s are mutually exclusive" % " and ".join(remotes), field=field_path(field, remotes[1]))
    if remote_group is not None and remote_group not in group_names:
        raise NetsecError("%r is not a group of this environment" % (remote_group,), field=field_path(field, "remote_group"),
                          fix="name one of %s, or give remote_group_id for a group managed elsewhere"
                              % (", ".join(sorted(group_names)) or "(none)"))
    if address_group is not None and address_group not in address_group_names:
        raise NetsecError("%r is not an address group of this environment" % (address_group,),
                          field=field_path(field, "remote_address_group"),
                          fix="list it in address_groups, or give remote_address_group_id for one managed elsewhere")

    ether_key = "ether_type" if "ethertype" not in raw and "ether_type" in raw else "ethertype"
    ether_raw = raw.get(ether_key)
    ethertype = _ethertype(ether_raw, prefix_dot + ether_key) if ether_raw else None
    if prefix is not None:
        derived = "IPv%d" % _network(prefix).version
        if ethertype and ethertype != derived:
            raise NetsecError("%s contradicts remote_ip_prefix %s" % (ethertype, prefix), field=field_path(field, ether_key),
                              fix="drop ethertype: it follows from the CIDR")
        ethertype = derived
    ethertype = ethertype or default_ethertype

    protocol = normalize_protocol(raw.get("protocol"), prefix_dot + "protocol")
    if ethertype == "IPv6" and protocol == 1:
        protocol = 58  # Neutron turns IPv6 "icmp" into ipv6-icmp
    if ethertype == "IPv4" and protocol in IPV6_ONLY_PROTOCOLS:
        raise NetsecError("%s is an IPv6 protocol but the rule is IPv4" % protocol_api_value(protocol),
                          field=field_path(field, "protocol"), fix="use icmp for IPv4 or set ethertype IPv6")

    raw_min, raw_max = raw.get("port_range_min"), raw.get("port_range_max")
    field_min, field_max, written = prefix_dot + "port_range_min", prefix_dot + "port_range_max", None
    if raw.get("port") is not None:
        if raw_min is not None or raw_max is not None:
            raise NetsecError("port and port_range_min/max are mutually exclusive", field=prefix_dot + "port")
        raw_min, raw_max = _split_port(raw.get("port"), prefix_dot + "port")
        # Errors name the key the user wrote: `port`, not the two keys it is split into.
        field_min = field_max = prefix_dot + "port"
        written = raw.get("port")
    low, high = normalize_ports(protocol, raw_min, raw_max, field_min, field_max, written)
    description = raw.get("description")
    return Rule(direction, ethertype, protocol, low, high, prefix, remote_group, remote_group_id, address_group_id,
                "" if description is None else str(description), address_group)


def live_rule(api_rule, names_by_id, address_group_names_by_id=None):
    """A rule as Neutron returns it -> Rule (remote groups and address groups of the environment by name)."""
    ethertype = api_rule.get("ethertype") or "IPv4"
    try:
        protocol = normalize_protocol(api_rule.get("protocol"), "protocol")
    except NetsecError:
        protocol = str(api_rule.get("protocol"))  # unknown to us: compare verbatim
    if ethertype == "IPv6" and protocol == 1:
        protocol = 58
    prefix = api_rule.get("remote_ip_prefix")
    if prefix:
        prefix = normalize_cidr(prefix, "remote_ip_prefix")
    low, high = api_rule.get("port_range_min"), api_rule.get("port_range_max")
    if protocol in PORT_PROTOCOLS and (low, high) == (1, 65535):
        low = high = None
    remote_id = api_rule.get("remote_group_id")
    remote_name = names_by_id.get(remote_id) if remote_id else None
    ag_id = api_rule.get("remote_address_group_id")
    ag_name = (address_group_names_by_id or {}).get(ag_id) if ag_id else None
    return Rule(api_rule.get("direction"), ethertype, protocol, low, high, prefix,
                remote_name, None if remote_name else remote_id, None if ag_name else ag_id,
                api_rule.get("description") or "", ag_name)


def _world(prefix):
    return prefix is not None and _network(prefix).prefixlen == 0


def rule_key(rule):
    """Identity of a rule: two rules with one key are the same rule to Neutron's data path."""
    prefix = None if _world(rule.remote_ip_prefix) else rule.remote_ip_prefix
    return (rule.direction, rule.ethertype, rule.protocol, rule.port_range_min, rule.port_range_max, prefix,
            rule.remote_group, rule.remote_group_id, rule.remote_address_group_id, rule.remote_address_group)


def api_body(rule, group_id, ids_by_name, address_group_ids=None):
    """The POST body of one rule (remote groups and address groups of the environment resolved to ids)."""
    body = {
        "security_group_id": group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": protocol_api_value(rule.protocol) if isinstance(rule.protocol, int) or rule.protocol is None else rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
    }
    if rule.remote_group:
        body["remote_group_id"] = ids_by_name[rule.remote_group]
    elif rule.remote_group_id:
        body["remote_group_id"] = rule.remote_group_id
    if rule.remote_address_group:
        body["remote_address_group_id"] = address_group_ids[rule.remote_address_group]
    elif rule.remote_address_group_id:
        body["remote_address_group_id"] = rule.remote_address_group_id
    if rule.description:
        body["description"] = rule.description
    return dict((k, v) for k, v in body.items() if v is not None)


# --- readable form ----------------------------------------------------------------------

def _ports_text(rule):
    proto = rule.protocol
    if proto is None:
        return "any"
    name = protocol_api_value(proto) if isinstance(proto, int) else proto
    if proto in ICMP_PROTOCOLS:
        if rule.port_range_min is None:
            return name
        text = "%s type %d" % (name, rule.port_range_min)
        if rule.port_range_max is not None:
            text += " code %d" % rule.port_range_max
        return text
    if proto in PORT_PROTOCOLS:
        if rule.port_range_min is None:
            return "%s/any" % name
        if rule.port_range_min == rule.port_range_max:
            return "%s/%d" % (name, rule.port_range_min)
        return "%s/%d-%d" % (name, rule.port_range_min, rule.port_range_max)
    return name


def _remote_text(rule):
    if rule.remote_group:
        return "group %s" % rule.remote_group
    if rule.remote_group_id:
        return "group id %s" % rule.remote_group_id
    if rule.remote_address_group:
        return "address group %s" % rule.remote_address_group
    if rule.remote_address_group_id:
        return "address group id %s" % rule.remote_address_group_id
    return rule.remote_ip_prefix or "any"


def describe(rule):
    """`ingress tcp/6443 from group c1-loadbalancer (IPv4)`."""
    word = "from" if rule.direction == "ingress" else "to"
    return "%s %s %s %s (%s)" % (rule.direction, _ports_text(rule), word, _remote_text(rule), rule.ethertype)


# --- protected rules -----------------------------------------------------------------------

PROTECTED_KEYS = ("descriptions", "tags")


def _string_list(values, field):
    if values is None:
        return []
    if not isinstance(values, list):
        raise NetsecError("must be a list of strings", field=field)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise NetsecError("%r is not a non-empty string" % (value,), field=field_path(field, i))
    return list(values)


def compile_protected(markers, field="protected_rules"):
    """markers: {descriptions: [regex], tags: [name]} -> predicate(api_rule) -> bool.

    Neutron has no tags on rules; a tag matches the rule's `tags` where a cloud returns
    them, and a `[name]` token in the description everywhere.
    """
    # A misspelled key (`description:`) would silently protect nothing and let sync delete
    # the very rules it was meant to keep.
    markers = _typed.known_keys({} if markers is None else markers, field, PROTECTED_KEYS)
    patterns = []
    for i, text in enumerate(_string_list(markers.get("descriptions"), field_path(field, "descriptions"))):
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise NetsecError("%r is not a regular expression: %s" % (text, exc), field=field_path(field, "descriptions", i))
    tags = _string_list(markers.get("tags"), field_path(field, "tags"))

    def protected(api_rule):
        description = api_rule.get("description") or ""
        if any(p.search(description) for p in patterns):
            return True
        rule_tags = api_rule.get("tags") or []
        return any(t in rule_tags or ("[%s]" % t) in description for t in tags)
    return protected


# --- the plan ------------------------------------------------------------------------------

class DesiredGroup(namedtuple("DesiredGroup", "name state description stateful tags rules field rule_fields")):
    """A group as wanted. rule_fields: where each rule came from (for errors); None means
    `<field>.rules[j]`."""
    __slots__ = ()

    def rule_field(self, j):
        if self.rule_fields is not None:
            return self.rule_fields[j]
        return field_path(self.field, "rules", j)


class GroupPlan(object):
    """What one group needs. Lists hold Rule (to create) or (api_rule, Rule) pairs (live)."""

    def __init__(self, name, state):
        self.name = name
        self.state = state
        self.id = None
        self.create_group = False
        self.delete_group = False
        self.update = {}
        self.set_tags = None
        self.to_create = []
        self.to_delete = []      # live rules not wanted
        self.duplicates = []     # live copies of a kept rule
        self.protected = []      # live rules not wanted but protected
        self.keep = []
        self.live_rules = []     # the group's rules before (Rule), for the diff

    # The diff's describe() lines, made only when asked for: a no-op at 2,000 rules built 4,000
    # lines nobody read.
    @property
    def before(self):
        return [describe(rule) for rule in self.live_rules]

    @property
    def after(self):
        return [describe(rule) for dummy, rule in self.keep + self.protected] + [describe(rule) for rule in self.to_create]

    @property
    def changed(self):
        return bool(self.create_group or self.delete_group or self.update or self.set_tags is not None
                    or self.to_create or self.to_delete or self.duplicates)

    def deletions(self):
        return self.to_delete + self.duplicates

    def adopt_rules(self, other):
        """Take the rule plan (and id) of `other`, a plan of this group made after it was created;
        what was decided about the group itself (created, updated, tags) stays."""
        self.id = other.id
        for attr in ("to_create", "to_delete", "duplicates", "protected", "keep", "live_rules"):
            setattr(self, attr, getattr(other, attr))


class Plan(object):
    def __init__(self, groups, address_groups=()):
        self.groups = groups
        self.address_groups = list(address_groups)

    @property
    def changed(self):
        return any(g.changed for g in self.groups) or any(a.changed for a in self.address_groups)

    def group(self, name):
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def diff(self):
        """One Ansible diff per changed address group (its addresses) and per changed group
        (sorted describe() lines), before and after."""
        out = [a.diff() for a in self.address_groups if a.changed]
        for g in self.groups:
            if not g.changed:
                continue
            before = "" if g.create_group else "\n".join(sorted(g.before)) + "\n"
            after = "" if g.delete_group else "\n".join(sorted(g.after)) + "\n"
            out.append({"before_header": "security group %s" % g.name, "after_header": "security group %s" % g.name,
                        "before": before, "after": after})
        return out

    def summary(self):
        """Counts for messages and benchmarks (address-group counts when the environment has any)."""
        out = {
            "groups_created": sum(1 for g in self.groups if g.create_group),
            "groups_deleted": sum(1 for g in self.groups if g.delete_group),
            "rules_created": sum(len(g.to_create) for g in self.groups),
            "rules_deleted": sum(len(g.deletions()) for g in self.groups),
        }
        if self.address_groups:
            out.update(address_groups_created=sum(1 for a in self.address_groups if a.create),
                       address_groups_deleted=sum(1 for a in self.address_groups if a.delete),
                       addresses_added=sum(len(a.add) for a in self.address_groups),
                       addresses_removed=sum(len(a.remove) for a in self.address_groups))
        return out


def _live_group_rules(live_group, names_by_id, address_group_names=None):
    return [(r, live_rule(r, names_by_id, address_group_names)) for r in live_group.get("security_group_rules") or []]


def plan_group(desired, live_group, names_by_id, protected, new_group_rules=(), address_group_names=None):
    """Plan one group. live_group: the API dict or None; new_group_rules: API-shaped rules a
    new group is born with (the cloud's defaults), so check mode predicts their fate too;
    address_group_names: {id: name} of the environment's address groups."""
    gp = GroupPlan(desired.name, desired.state)
    if live_group is None:
        if desired.state == "absent":
            return gp
        gp.create_group = True
        # Template rules: the real ones get their ids when the group is created.
        live_pairs = [(dict(r, id=None), live_rule(r, names_by_id)) for r in new_group_rules]
    else:
        gp.id = live_group["id"]
        live_pairs = _live_group_rules(live_group, names_by_id, address_group_names)
    gp.live_rules = [rule for dummy, rule in live_pairs]

    if desired.state == "absent":
        gp.delete_group = True
        return gp

    if live_group is not None:
        if desired.description is not None and (live_group.get("description") or "") != desired.description:
            gp.update["description"] = desired.description
        if desired.stateful is not None and live_group.get("stateful", True) != desired.stateful:
            gp.update["stateful"] = desired.stateful
        if desired.tags is not None and sorted(live_group.get("tags") or []) != sorted(desired.tags):
            gp.set_tags = sorted(desired.tags)
    elif desired.tags:
        gp.set_tags = sorted(desired.tags)

    by_key = {}
    for api_rule, rule in live_pairs:
        by_key.setdefault(rule_key(rule), []).append((api_rule, rule))
    wanted = {}
    for rule in desired.rules:
        wanted.setdefault(rule_key(rule), rule)  # first spelling wins; later ones are the same rule

    for key, rule in wanted.items():
        copies = by_key.get(key)
        if not copies:
            gp.to_create.append(rule)
            continue
        # Keep a protected copy if there is one, else the oldest-looking (first listed).
        copies = sorted(copies, key=lambda pair: 0 if protected(pair[0]) else 1)
        gp.keep.append(copies[0])
        for pair in copies[1:]:
            (gp.protected if protected(pair[0]) else gp.duplicates).append(pair)
    for key, copies in by_key.items():
        if key in wanted:
            continue
        for pair in copies:
            (gp.protected if protected(pair[0]) else gp.to_delete).append(pair)
    return gp


def plan(desired_groups, live_groups, protected=None, new_group_rules=(), external_names=None, address_groups=None):
    """The environment's plan.

    desired_groups: [DesiredGroup] (rules already normalised, remote groups by name).
    live_groups: {name: API dict with security_group_rules} of the environment's groups.
    external_names: {id: name} of other live groups, to show ids readably (optional).
    address_groups: [AddressGroupPlan] of the environment (address_groups.plan), planned alongside.
    """
    protected = protected or (lambda api_rule: False)
    names_by_id = dict(external_names or {})
    for name, group in live_groups.items():
        names_by_id[group["id"]] = name
    # Remote groups of the environment compare by name; ids of groups outside it stay ids.
    env_names = set(g.name for g in desired_groups)
    env_ids = dict((i, n) for i, n in names_by_id.items() if n in env_names)
    address_groups = list(address_groups or [])
    ag_names = dict((a.id, a.name) for a in address_groups if a.id)
    plans = []
    for desired in desired_groups:
        gp = plan_group(desired, live_groups.get(desired.name), env_ids, protected, new_group_rules, ag_names)
        plans.append(gp)
    return Plan(plans, address_groups)


# --- input parsing (module and role share it) -------------------------------------------

GROUP_KEYS = ("name", "state", "description", "stateful", "tags", "rules")


def parse_groups(raw_groups, field="security_groups", known_names=(), address_group_names=()):
    """User groups -> [DesiredGroup]; every error names its field. No I/O.

    known_names: other groups of the environment (rendered ones) a remote_group may name;
    address_group_names: the environment's address groups (present) a remote_address_group may name.
    """
    if not isinstance(raw_groups, list):
        raise NetsecError("must be a list of groups", field=field)
    names = []
    for i, group in enumerate(raw_groups):
        gfield = field_path(field, i)
        if not isinstance(group, dict):
            raise NetsecError("must be a mapping", field=gfield)
        unknown = set(group) - set(GROUP_KEYS)
        if unknown:
            raise NetsecError("unknown key(s) %s" % ", ".join(sorted(unknown)), field=gfield,
                              fix="known keys: %s" % ", ".join(GROUP_KEYS))
        name = group.get("name")
        if not name or not isinstance(name, str):
            raise NetsecError("a group needs a name", field=field_path(gfield, "name"))
        if name in names:
            raise NetsecError("%r is listed twice" % name, field=field_path(gfield, "name"), fix="merge the two entries")
        names.append(name)
    present = [g["name"] for g in raw_groups if (g.get("state") or "present") == "present"] + list(known_names)
    out = []
    for i, group in enumerate(raw_groups):
        gfield = field_path(field, i)
        state = group.get("state") or "present"
        if state not in ("present", "absent"):
            raise NetsecError("%r is not present or absent" % (state,), field=field_path(gfield, "state"))
        rules = []
        raw_rules = group.get("rules") or []
        if not isinstance(raw_rules, list):
            raise NetsecError("must be a list of rules", field=field_path(gfield, "rules"))
        if state == "present":
            for j, raw in enumerate(raw_rules):
                rules.append(normalize_rule(raw, field_path(gfield, "rules", j), present, address_group_names=address_group_names))
        tags = group.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags)):
            raise NetsecError("must be a list of non-empty strings", field=field_path(gfield, "tags"))
        stateful = group.get("stateful")
        if stateful is not None and not isinstance(stateful, bool):
            raise NetsecError("must be true or false", field=field_path(gfield, "stateful"))
        out.append(DesiredGroup(group["name"], state, group.get("description"), stateful, tags, rules, gfield, None))
    return out


def merge_groups(base, extra):
    """Rendered groups + the user's groups: a user group of the same name adds its rules
    (and overrides description, stateful, tags, state); others are appended."""
    out = list(base)
    index = dict((g.name, i) for i, g in enumerate(out))
    for group in extra:
        if group.name not in index:
            out.append(group)
            continue
        i = index[group.name]
        old = out[i]
        fields = [old.rule_field(j) for j in range(len(old.rules))] + [group.rule_field(j) for j in range(len(group.rules))]
        out[i] = DesiredGroup(old.name, group.state if group.state == "absent" else old.state,
                              group.description if group.description is not None else old.description,
                              group.stateful if group.stateful is not None else old.stateful,
                              group.tags if group.tags is not None else old.tags,
                              [] if group.state == "absent" else list(old.rules) + list(group.rules),
                              old.field, None if group.state == "absent" else fields)
    return out


def check_remote_groups(groups):
    """After merging: no rule may reference a group of the environment that is to be absent."""
    absent = set(g.name for g in groups if g.state == "absent")
    for group in groups:
        for j, rule in enumerate(group.rules):
            if rule.remote_group in absent:
                raise NetsecError("%r is to be deleted (state absent)" % rule.remote_group,
                                  field=field_path(group.rule_field(j), "remote_group"),
                                  fix="drop the rule or keep the group")


def external_address_group_ids(desired_groups, live_address_groups):
    """Ids given as remote_address_group_id that are not address groups of this environment."""
    env_ids = set(g["id"] for g in live_address_groups.values())
    return sorted(set(rule.remote_address_group_id for group in desired_groups for rule in group.rules
                      if rule.remote_address_group_id and rule.remote_address_group_id not in env_ids))


def resolve_address_group_ids(desired_groups, live_address_groups, existing, absent=()):
    """Every remote_address_group_id checked before the first write (like resolve_remote_ids):
    an id of an address group of this environment becomes its NAME; an unknown id is refused.

    existing: the ids of the other address groups Neutron has; absent: names to be deleted."""
    return _resolve_ids(desired_groups, live_address_groups, existing, set(absent), "remote_address_group", "address group")


def external_remote_ids(desired_groups, live_groups):
    """Ids given as remote_group_id that are not groups of this environment: to be looked up."""
    env_ids = set(g["id"] for g in live_groups.values())
    return sorted(set(rule.remote_group_id for group in desired_groups for rule in group.rules
                      if rule.remote_group_id and rule.remote_group_id not in env_ids))


def resolve_remote_ids(desired_groups, live_groups, existing_ids):
    """Every remote_group_id checked before the first write -> desired groups in which an id
    of a group of this environment is that group's NAME (live rules name them so: compared
    by id, one rule would be created again every run and Neutron answer 409).

    live_groups: {name: API dict} of the environment; existing_ids: the other ids Neutron has.
    """
    absent = set(g.name for g in desired_groups if g.state == "absent")
    return _resolve_ids(desired_groups, live_groups, existing_ids, absent, "remote_group", "security group")


def _resolve_ids(desired_groups, live, existing_ids, absent, key, what):
    """For key remote_group / remote_address_group: `<key>_id` of one of `live` ({name: API dict})
    -> `<key>` (its name), refused if that one is absent; an id neither there nor in existing_ids is refused."""
    env_by_id = dict((g["id"], name) for name, g in live.items())
    id_key = key + "_id"
    out = []
    for group in desired_groups:
        rules = []
        for j, rule in enumerate(group.rules):
            rid = getattr(rule, id_key)
            if rid and rid in env_by_id:
                name = env_by_id[rid]
                if name in absent:
                    raise NetsecError("%s is the id of %s%r, which is to be deleted (state absent)"
                                      % (rid, "" if what == "security group" else what + " ", name),
                                      field=field_path(group.rule_field(j), id_key),
                                      fix="drop the rule or keep the %s" % ("group" if what == "security group" else what))
                rule = rule._replace(**{key: name, id_key: None})
            elif rid and rid not in existing_ids:
                raise NetsecError("no %s has the id %s" % (what, rid), field=field_path(group.rule_field(j), id_key),
                                  fix="check the id, or name %s of this environment with %s"
                                      % ("a group" if what == "security group" else "an " + what, key))
            rules.append(rule)
        out.append(group._replace(rules=rules))
    return out


# --- the lint's view of a rule (desired and live alike) ------------------------------------

def lint_remote(rule):
    """The rule's source for port_model.lint(): its CIDR, None for a group reference (not an
    address), pm.ANY_SOURCE when it has no remote at all (Neutron then admits every source)."""
    if rule.remote_ip_prefix:
        return rule.remote_ip_prefix
    if rule.remote_group or rule.remote_group_id or rule.remote_address_group_id:
        return None
    return pm.ANY_SOURCE


def _lint_protocol(protocol):
    if protocol is None or (isinstance(protocol, str) and protocol.strip().lower() in ANY_WORDS + ("0",)):
        return None  # any (Neutron reads protocol 0 as any too): every sensitive service
    return protocol_api_value(protocol) if isinstance(protocol, int) else protocol


def lint_entry(rule, field, scope):
    """One port_model.lint() entry for one Rule, whether it was parsed from the user's input
    (normalize_rule) or read back from Neutron (live_rule): one builder, one verdict."""
    return {
        "field": field, "scope": scope, "direction": rule.direction,
        "protocol": _lint_protocol(rule.protocol), "port_min": rule.port_range_min, "port_max": rule.port_range_max,
        "remote": lint_remote(rule), "families": (4,) if rule.ethertype == "IPv4" else (6,),
    }


def _address_group_entries(rule, field, scope, addresses):
    """An address-group rule is judged by its addresses: one entry per address of the rule's
    family (an address group holds both; the rule's ethertype picks). addresses: [(cidr, field)],
    field None meaning the rule's. None (addresses unknown) is judged as any source: fail closed."""
    if addresses is None:
        return [dict(lint_entry(rule, field, scope), remote=pm.ANY_SOURCE)]
    version = 4 if rule.ethertype == "IPv4" else 6
    mine = [(cidr, afield) for cidr, afield in addresses if _network(cidr).version == version]
    # Widest first: the lint's message lists the first few sources, and those are the ones to fix.
    mine.sort(key=lambda pair: _network(pair[0]).prefixlen)
    return [dict(lint_entry(rule, afield or field, scope), remote=cidr) for cidr, afield in mine]


def lint_entries(desired_groups, address_groups=None, defer_ids=False):
    """Entries for port_model.lint() from the groups to sync, each naming its input field.

    address_groups: {name or id: [(cidr, field)]} of the address groups rules reference; a rule
    on an address group is judged by those addresses (field: the address as written), so 0.0.0.0/0
    inside an address group is refused like a literal one. A group missing here counts as any source.
    defer_ids: leave out rules on address groups given by id (managed elsewhere, judged once read)."""
    entries = []
    for group in desired_groups:
        for j, rule in enumerate(group.rules):
            ag = rule.remote_address_group or rule.remote_address_group_id
            if defer_ids and rule.remote_address_group_id:
                continue
            if ag:
                entries.extend(_address_group_entries(rule, group.rule_field(j), group.name, (address_groups or {}).get(ag)))
            else:
                entries.append(lint_entry(rule, group.rule_field(j), group.name))
    return entries


def live_lint_entries(live_groups, names_by_id=None, address_groups=None):
    """Entries for port_model.lint() from live groups (Neutron's API dicts with their rules),
    each named `<group>: <rule>`, the way verify reports it.

    address_groups: Neutron's address-group API dicts (GET /v2.0/address-groups); a rule on an
    address group is judged by its addresses. One not given (not read) is judged as any source."""
    names_by_id = dict(names_by_id or ((g.get("id"), g.get("name")) for g in live_groups))
    by_id = dict((a["id"], [(str(_network(c)), None) for c in a.get("addresses") or []]) for a in address_groups or [])
    entries = []
    for group in live_groups:
        for api_rule in group.get("security_group_rules") or []:
            rule = live_rule(api_rule, names_by_id)
            field = "%s: %s" % (group["name"], describe(rule))
            if rule.remote_address_group_id:
                entries.extend(_address_group_entries(rule, field, group["name"], by_id.get(rule.remote_address_group_id)))
            else:
                entries.append(lint_entry(rule, field, group["name"]))
    return entries
