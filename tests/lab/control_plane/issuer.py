"""The lab's OIDC issuer as a daemon, for the main job's control plane (tests/lab/control-plane.sh).

The same issuer the tests use (tests/fixtures/oidc_issuer.py: HTTPS on 127.0.0.1, discovery,
JWKS, Zitadel-shaped tokens), on a fixed port so that the AuthenticationConfiguration rendered
for it stays the same from run to run. It writes into STATE:
  issuer-ca.crt                   the CA the API server verifies the issuer with
  probe-without-mfa.jwt (0600)    a correctly signed token for the right audience, amr [pwd]: must get 401
  probe-with-mfa.jwt (0600)       the same user after password + TOTP (amr [pwd otp mfa]), role viewer
  issuer.json                     url, ids, token paths, and the identity the MFA token must map to
Tokens are re-minted every half of their lifetime, so a long-lived lab never probes with an expired one.
  python issuer.py STATE PORT
"""
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for fixtures

from fixtures.oidc_issuer import OidcIssuer, zitadel_amr  # noqa: E402

TOKEN_LIFETIME = 4 * 3600
PROBE_SUB = "310000000000000077"
PROBE_USER = "probe@lab.netsec.test"


def write_private(path, text):
    fd = os.open(str(path) + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(str(path) + ".tmp", str(path))


def mint(issuer, state):
    common = {"sub": PROBE_SUB, "username": PROBE_USER, "roles": issuer.roles("viewer"), "expires_in": TOKEN_LIFETIME}
    write_private(state / "probe-without-mfa.jwt", issuer.token(amr=zitadel_amr("password"), **common))
    write_private(state / "probe-with-mfa.jwt", issuer.token(amr=zitadel_amr("password", "totp"), **common))


def main():
    state, port = Path(sys.argv[1]), int(sys.argv[2])
    issuer = OidcIssuer(str(state), port=port)
    mint(issuer, state)
    info = {"url": issuer.url, "ca_file": issuer.ca_file, "project_id": issuer.project_id, "client_id": issuer.client_id,
            "org_id": issuer.org_id, "probes": {"without_mfa": str(state / "probe-without-mfa.jwt"),
                                                "with_mfa": str(state / "probe-with-mfa.jwt")},
            # What the rendered claim mappings promise for the MFA probe (username_claim sub, prefix zitadel:).
            "expected": {"username": "zitadel:" + PROBE_SUB, "groups": ["zitadel:viewer"]}}
    (state / "issuer.json.tmp").write_text(json.dumps(info, indent=1))
    os.replace(str(state / "issuer.json.tmp"), str(state / "issuer.json"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    while not stop.wait(TOKEN_LIFETIME / 2):
        mint(issuer, state)
    issuer.close()


if __name__ == "__main__":
    main()
