#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zitadel_login_policy
short_description: Enforce MFA in a Zitadel login policy (organisation or instance)
version_added: 0.1.0
description:
  - Sets C(forceMfa) and the allowed second factors / multi factors of the login policy of an
    organisation (management API) or of the instance default (admin API).
  - An organisation that still inherits the instance default gets its own policy, created from the
    inherited values plus the ones given here.
  - Options left unset keep their current value.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.zitadel
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  level:
    description:
      - V(org) manages the policy of the organisation (O(org_id) or the service user's own).
      - V(instance) manages the instance default every organisation without its own policy inherits.
    type: str
    choices: [org, instance]
    default: org
  state:
    description:
      - V(absent) (O(level=org) only) drops the organisation's own policy so it inherits the instance default again.
    type: str
    choices: [present, absent]
    default: present
  force_mfa:
    description:
      - Require a second factor at every login.
    type: bool
    default: true
  force_mfa_local_only:
    description:
      - Require MFA only for local logins (not after an external IdP). Keep V(false) so that every login of a Kubernetes user has MFA.
    type: bool
  second_factors:
    description:
      - Allowed second factors (in addition to the password).
    type: list
    elements: str
    choices: [otp, u2f, otp_email, otp_sms]
  multi_factors:
    description:
      - Allowed multi factors (passwordless with verification, such as a passkey with PIN).
    type: list
    elements: str
    choices: [u2f_with_verification]
  passwordless:
    description:
      - Whether passwordless login (passkeys) is allowed.
    type: str
    choices: [allowed, not_allowed]
  allow_username_password:
    description:
      - Allow login with username and password.
    type: bool
  allow_register:
    description:
      - Allow self-registration.
    type: bool
  allow_external_idp:
    description:
      - Allow login through external identity providers.
    type: bool
notes:
  - The service user of O(token) needs the organisation manager role for O(level=org) and C(IAM_OWNER) for O(level=instance).
  - Zitadel marks a login with two factors or with a passkey as C(mfa) in the token's C(amr) claim; the API server's
    AuthenticationConfiguration built by this collection rejects tokens without it.
seealso:
  - module: safespring.netsec.zitadel_project
"""

EXAMPLES = r"""
- name: Forced MFA with TOTP or security keys for the organisation
  safespring.netsec.zitadel_login_policy:
    url: https://id.example.com
    token: "{{ zitadel_pat }}"
    force_mfa: true
    force_mfa_local_only: false
    second_factors: [otp, u2f]
    multi_factors: [u2f_with_verification]
"""

RETURN = r"""
policy:
  description: The managed fields of the policy after the run (predicted in check mode).
  returned: always
  type: dict
operations:
  description: The API calls the plan made (or would make in check mode).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import common, plan
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import ADMIN, MANAGEMENT


def main():
    module = common.zitadel_module(dict(
        level=dict(type="str", choices=["org", "instance"], default="org"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force_mfa=dict(type="bool", default=True),
        force_mfa_local_only=dict(type="bool"),
        second_factors=dict(type="list", elements="str", choices=sorted(plan.SECOND_FACTORS)),
        multi_factors=dict(type="list", elements="str", choices=sorted(plan.MULTI_FACTORS)),
        passwordless=dict(type="str", choices=sorted(plan.PASSWORDLESS)),
        allow_username_password=dict(type="bool"),
        allow_register=dict(type="bool"),
        allow_external_idp=dict(type="bool"),
    ))
    p = module.params

    def body(client):
        scalars, factors = plan.desired_login_policy(p)
        base = (MANAGEMENT if p["level"] == "org" else ADMIN) + "/policies/login"
        live = client.get(base)
        policy = live.get("policy") or {}
        # management says isDefault at top level and in the policy; admin only in the policy
        is_default = bool(live.get("isDefault", policy.get("isDefault")))
        ops = plan.plan_login_policy(p["level"], scalars, factors, policy, is_default, p["state"])
        if ops and not module.check_mode:
            plan.apply(client, ops)
        before = plan.login_policy_view(policy)
        after = plan.login_policy_after(before, scalars, factors) if p["state"] == "present" else before
        result = dict(changed=bool(ops), policy=after, operations=[op.as_dict() for op in ops])
        if module._diff:
            result["diff"] = common.diff(before, after)
        return result

    common.run(module, body)


if __name__ == "__main__":
    main()
