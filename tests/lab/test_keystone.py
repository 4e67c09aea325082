"""The lab's Keystone (tests/lab/keystone.sh): application credentials scope a real Neutron
to one project, and bad credentials are refused."""
import urllib.error
import urllib.request
import uuid

import openstack
import pytest
from keystoneauth1 import exceptions as ksa_exceptions
from openstack import exceptions
from openstack.config import loader

from fixtures.openstack import connect, count_requests, load_clouds

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def project_a(keystone_clouds):
    return connect(keystone_clouds, keystone_clouds["clouds"]["project-a"])


@pytest.fixture(scope="module")
def project_b(keystone_clouds):
    return connect(keystone_clouds, keystone_clouds["clouds"]["project-b"])


@pytest.fixture
def groups(project_a, project_b):
    made = {
        "a": project_a.network.create_security_group(name=f"lab-a-{uuid.uuid4().hex[:8]}"),
        "b": project_b.network.create_security_group(name=f"lab-b-{uuid.uuid4().hex[:8]}"),
    }
    yield made
    project_a.network.delete_security_group(made["a"], ignore_missing=True)
    project_b.network.delete_security_group(made["b"], ignore_missing=True)


def test_network_endpoint_comes_from_the_keystone_catalog(keystone_clouds, project_a):
    assert project_a.endpoint_for("network").rstrip("/") == keystone_clouds["endpoint"].rstrip("/")


def test_project_a_sees_its_own_security_groups_but_not_project_bs(project_a, groups):
    names = {sg.name for sg in project_a.network.security_groups()}
    assert groups["a"].name in names
    assert groups["b"].name not in names
    with pytest.raises(exceptions.NotFoundException):
        project_a.network.get_security_group(groups["b"].id)


def test_groups_belong_to_the_project_of_the_application_credential(project_a, project_b, groups):
    assert groups["a"].project_id == project_a.current_project_id
    assert groups["b"].project_id == project_b.current_project_id
    assert project_a.current_project_id != project_b.current_project_id


def test_project_b_is_forbidden_to_add_rules_to_project_as_group(project_b, groups):
    # Neutron's policy answers 403 here (not 404 as for reading the group).
    with pytest.raises(exceptions.ForbiddenException):
        project_b.network.create_security_group_rule(
            security_group_id=groups["a"].id, direction="ingress", ethertype="IPv4", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_ip_prefix="10.0.0.0/8")


def test_bad_application_credential_secret_is_refused_with_401(keystone_clouds):
    entry = load_clouds()[keystone_clouds["clouds"]["project-a"]]
    bad = dict(entry, auth=dict(entry["auth"], application_credential_secret="not-the-secret"))
    agent = f"lab-test-badcred-{uuid.uuid4().hex[:8]}"
    region = loader.OpenStackConfig(load_yaml_config=False, load_envvars=False, app_name=agent).get_one(**bad)
    conn = openstack.connection.Connection(config=region)
    with count_requests(keystone_clouds["keystone_access_log"], agent=agent) as counts:
        with pytest.raises(exceptions.SDKException) as err:
            conn.authorize()
    # openstacksdk re-raises keystoneauth's error without `from`: it is the context.
    assert isinstance(err.value.__context__, ksa_exceptions.Unauthorized)
    assert err.value.__context__.http_status == 401
    assert [(r.method, r.path, r.status) for r in counts.requests] == [("POST", "/v3/auth/tokens", 401)]


def test_neutron_refuses_a_request_with_a_forged_token_with_401(keystone_clouds):
    req = urllib.request.Request(keystone_clouds["endpoint"].rstrip("/") + "/v2.0/security-groups",
                                 headers={"X-Auth-Token": "gAAAAAforged"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 401
