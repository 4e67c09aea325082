"""Create the lab Neutron's SQLite schema and seed what the skipped migrations would have.

`neutron-db-manage upgrade heads` fails on SQLite (ALTER of constraints), so the schema
comes from the models (create_all) and the caller then runs `neutron-db-manage stamp heads`.
Migration c33da356b165 also inserts the 4 default security-group rule templates; without
them a new group has no default egress rules, unlike a real cloud. Usage: neutron_db.py URL
"""
import sys

import sqlalchemy as sa
from neutron_lib import constants
from oslo_utils import uuidutils

from neutron.db.migration.models import head

TEMPLATES_TABLE = "securitygroupdefaultrules"
INGRESS_DESCRIPTION = "Legacy default SG rule for ingress traffic"
EGRESS_DESCRIPTION = "Legacy default SG rule for egress traffic"

# As in neutron/db/migration/alembic_migrations/versions/2023.2/expand/c33da356b165_*.py
DEFAULT_TEMPLATES = [
    {"direction": constants.EGRESS_DIRECTION, "ethertype": constants.IPv4,
     "used_in_default_sg": True, "used_in_non_default_sg": True, "description": EGRESS_DESCRIPTION},
    {"direction": constants.EGRESS_DIRECTION, "ethertype": constants.IPv6,
     "used_in_default_sg": True, "used_in_non_default_sg": True, "description": EGRESS_DESCRIPTION},
    {"direction": constants.INGRESS_DIRECTION, "ethertype": constants.IPv4, "remote_group_id": "PARENT",
     "used_in_default_sg": True, "used_in_non_default_sg": False, "description": INGRESS_DESCRIPTION},
    {"direction": constants.INGRESS_DIRECTION, "ethertype": constants.IPv6, "remote_group_id": "PARENT",
     "used_in_default_sg": True, "used_in_non_default_sg": False, "description": INGRESS_DESCRIPTION},
]


def main(url):
    engine = sa.create_engine(url)
    metadata = head.get_metadata()
    metadata.create_all(engine)
    standardattr = metadata.tables["standardattributes"]
    templates = metadata.tables[TEMPLATES_TABLE]
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(templates)).scalar():
            return
        for template in DEFAULT_TEMPLATES:
            row = dict(template)
            attr = conn.execute(sa.insert(standardattr).values(
                resource_type=TEMPLATES_TABLE, description=row.pop("description"), revision_number=0))
            row["id"] = uuidutils.generate_uuid()
            row["standard_attr_id"] = attr.inserted_primary_key[0]
            conn.execute(sa.insert(templates).values(**row))
    print("schema created; %d default security-group rule templates seeded" % len(DEFAULT_TEMPLATES))


if __name__ == "__main__":
    main(sys.argv[1])
