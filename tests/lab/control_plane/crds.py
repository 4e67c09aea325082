"""Server-side apply Cilium's published CRD definitions to a lab API server and wait until each is
Established (what a Cilium install does before policies can be applied; no agent runs here), and
create the namespaces other installs own in a real cluster (the collection only labels them).
  python crds.py KUBE_JSON CRD_DIR [NAMESPACE...]
"""
import json
import sys
import time
from pathlib import Path

import requests
import yaml


def main():
    info, crd_dir = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    session = requests.Session()
    session.verify, session.cert = info["ca"], (info["admin_cert"], info["admin_key"])
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
    base = info["url"] + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
    names = []
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        name = crd["metadata"]["name"]
        resp = session.patch(base + name, params={"fieldManager": "netsec-lab", "force": "true"}, data=json.dumps(crd),
                             headers={"Content-Type": "application/apply-patch+yaml"}, timeout=30)
        if not resp.ok:
            sys.exit("CRD %s: HTTP %d %s" % (name, resp.status_code, resp.text[:300]))
        names.append(name)
    for namespace in sys.argv[3:]:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        resp = session.patch(info["url"] + "/api/v1/namespaces/" + namespace, params={"fieldManager": "netsec-lab"},
                             data=json.dumps(body), headers={"Content-Type": "application/apply-patch+yaml"}, timeout=30)
        if not resp.ok:
            sys.exit("namespace %s: HTTP %d %s" % (namespace, resp.status_code, resp.text[:300]))
    deadline = time.monotonic() + 60
    for name in names:
        while not any(c["type"] == "Established" and c["status"] == "True"
                      for c in session.get(base + name, timeout=30).json().get("status", {}).get("conditions", [])):
            if time.monotonic() > deadline:
                sys.exit("CRD %s not Established after 60s" % name)
            time.sleep(0.2)
    print(len(names))


if __name__ == "__main__":
    main()
