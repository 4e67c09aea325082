#!/usr/bin/env bash
# Build the collection tarball, install it from the tarball, lint its docs, run galaxy-importer.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO"
out="$BUILD_DIR/dist"; inst="$BUILD_DIR/installed"
rm -rf "$out" "$inst"; mkdir -p "$out" "$inst"
ansible-galaxy collection build --force --output-path "$out" .
tarball=$(ls "$out"/safespring-netsec-*.tar.gz)
echo "built $tarball ($(du -h "$tarball" | cut -f1))"
# Dependencies come from the ansible package (no Galaxy server is reachable).
ANSIBLE_COLLECTIONS_PATH="$inst" ansible-galaxy collection install --offline --no-deps --force -p "$inst" "$tarball"
ANSIBLE_COLLECTIONS_PATH="$inst:$VENV/lib/python3.11/site-packages" ansible-doc -l safespring.netsec
ANSIBLE_COLLECTIONS_PATH="$inst:$VENV/lib/python3.11/site-packages" \
  antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck "$inst/ansible_collections/safespring/netsec"
# galaxy-importer without containers: ansible-test inside it stays off, and so does its ansible-lint
# (the lint stage runs ansible-lint on this tree with the stricter production profile).
cat > "$BUILD_DIR/galaxy-importer.cfg" <<CFG
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = False
CHECK_REQUIRED_TAGS = False
CFG
(cd "$BUILD_DIR" && GALAXY_IMPORTER_CONFIG="$BUILD_DIR/galaxy-importer.cfg" python -m galaxy_importer.main "$tarball" > "$BUILD_DIR/galaxy-importer.log" 2>&1) || { tail -40 "$BUILD_DIR/galaxy-importer.log"; exit 1; }
if grep -E "^(WARNING|ERROR)" "$BUILD_DIR/galaxy-importer.log"; then echo "galaxy-importer reported findings (above)"; exit 1; fi
tail -3 "$BUILD_DIR/galaxy-importer.log"
