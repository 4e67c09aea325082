# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors that name the field at fault and the fix, raised before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class NetsecError(Exception):
    """A failure a module reports as is: `field: message (fix)`.

    `field` is a path into the module's input such as
    ``security_groups[2].rules[5].port_range_min``; `fix` says what to do instead.
    """

    def __init__(self, message, field=None, fix=None, **extra):
        self.field = field
        self.message = message
        self.fix = fix
        self.extra = extra
        super(NetsecError, self).__init__(str(self))

    def __str__(self):
        text = "%s: %s" % (self.field, self.message) if self.field else self.message
        if self.fix:
            text += " (%s)" % self.fix
        return text

    def fail(self, module, **result):
        """Report through AnsibleModule.fail_json with the field as data too."""
        result.update(self.extra)
        if self.field:
            result.setdefault("field", self.field)
        module.fail_json(msg=str(self), **result)


def field_path(*parts):
    """Join path parts: field_path('rules', 5, 'port') -> 'rules[5].port'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        elif out:
            out += "." + str(part)
        else:
            out = str(part)
    return out
