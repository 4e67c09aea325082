# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/controller.yml: job templates as code stay consistent with the collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _controller():
    with open(os.path.join(ROOT, "awx", "controller.yml")) as handle:
        return yaml.load(handle, Loader=_Loader)


def _role_options():
    options = {}
    roles = os.path.join(ROOT, "roles")
    for role in os.listdir(roles):
        path = os.path.join(roles, role, "meta", "argument_specs.yml")
        if os.path.exists(path):
            with open(path) as handle:
                for entry in yaml.safe_load(handle)["argument_specs"].values():
                    options.update(entry.get("options") or {})
    return options


CONTROLLER = _controller()
TEMPLATES = CONTROLLER["controller_templates"]
SURVEY_QUESTIONS = [(t["name"], q) for t in TEMPLATES if t.get("survey_enabled") for q in t["survey_spec"]["spec"]]


def test_every_template_runs_a_playbook_that_exists():
    for template in TEMPLATES:
        assert os.path.exists(os.path.join(ROOT, template["playbook"])), template["name"]


def test_every_stage_has_a_check_template_for_audit():
    runs = set(t["name"] for t in TEMPLATES if t["job_type"] == "run" and "verify" not in t["name"])
    checks = set(t["name"][:-len(" (check)")] for t in TEMPLATES if t["job_type"] == "check")
    assert runs == checks


@pytest.mark.parametrize("template_name, question", SURVEY_QUESTIONS, ids=[q["variable"] + "@" + n for n, q in SURVEY_QUESTIONS])
def test_survey_questions_are_validated_by_a_role_argument_spec(template_name, question):
    spec = _role_options().get(question["variable"])
    assert spec is not None, "%s: %s is no role option, so no argument_spec validates it" % (template_name, question["variable"])
    if question["type"] == "multiplechoice" and spec.get("type") != "bool":
        assert sorted(question["choices"]) == sorted(spec["choices"]), question["variable"]
    if spec.get("type") == "bool":
        assert sorted(question["choices"]) == ["false", "true"]


def test_secrets_reach_jobs_only_through_credential_injectors_never_extra_vars():
    for template in TEMPLATES:
        assert not any("token" in k or "password" in k or "talosconfig" in k for k in template.get("extra_vars", {})), template["name"]
    for ctype in CONTROLLER["controller_credential_types"]:
        secret_fields = [f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")]
        assert secret_fields, ctype["name"]
        assert "extra_vars" not in ctype["injectors"], ctype["name"]


def test_workflows_chain_the_stages_in_the_safe_order():
    order = ["security-groups", "load-balancers", "talos", "cilium", "namespace-policies", "zitadel-rbac", "verify"]
    for workflow in CONTROLLER["controller_workflows"]:
        nodes = dict((n["identifier"], n) for n in workflow["workflow_nodes"])
        chain, current = [], order[0]
        while current:
            chain.append(current)
            nxt = nodes[current].get("related", {}).get("success_nodes", [])
            current = nxt[0]["identifier"] if nxt else None
        assert chain == order, workflow["name"]


# Answers that switch a protection off; a survey user (less trusted than the inventory's
# reviewers) must never be offered them in prod. docs/threat-model.md explains the split.
WEAKENING_ANSWERS = {"cilium_policy_audit_mode": ["true"]}


def test_surveys_offer_only_fixed_choices_and_never_free_text_or_extra_vars():
    for name, question in SURVEY_QUESTIONS:
        assert question["type"] == "multiplechoice", "%s: %s lets a survey user type free text" % (name, question["variable"])
    for template in TEMPLATES:
        assert not template.get("ask_variables_on_launch"), template["name"]
        assert not template.get("ask_inventory_on_launch"), template["name"]


def test_no_prod_survey_answer_weakens_the_baseline():
    prod = [(n, q) for n, q in SURVEY_QUESTIONS if " prod " in n]
    assert prod, "prod has surveys (TLS profile, apply mode)"
    for name, question in prod:
        offered = set(question["choices"]) & set(WEAKENING_ANSWERS.get(question["variable"], []))
        assert not offered, "%s offers %s=%s" % (name, question["variable"], sorted(offered))
