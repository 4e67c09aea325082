#!/usr/bin/env bash
# Stage functions are called through run_stage and trap, which shellcheck cannot follow.
# shellcheck disable=SC2317
# The whole test suite, in stages, each timed. Exit 0 only when every stage passed.
#   sudo scripts/test.sh              everything (what CI runs)
#   sudo scripts/test.sh unit lint    only the named stages
# Stages: bootstrap unit sanity sanity-latest lint build lab integration e2e molecule
# The lab is started in the background while the static stages run, and torn down on exit.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO" || exit 1

ALL_STAGES=(bootstrap unit sanity sanity-latest lint build lab integration e2e molecule)
stages=("$@"); [ "${#stages[@]}" -gt 0 ] || stages=("${ALL_STAGES[@]}")
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

REPORT_DIR="$BUILD_DIR/test-results"
rm -rf "$REPORT_DIR"; mkdir -p "$REPORT_DIR" "$LAB_DIR"
declare -a SUMMARY=()
failed=0
T_ALL=$(date +%s)

run_stage() {  # run_stage NAME COMMAND...
  local name="$1"; shift
  stage_start "$name"
  "$@"
  local rc=$?
  stage_end "$rc"
  SUMMARY+=("$(printf '%-14s %4ss  %s' "$name" "$(( $(date +%s) - STAGE_T0 ))" "$([ $rc = 0 ] && echo ok || echo "FAILED (rc=$rc)")")")
  [ $rc = 0 ] || failed=1
  return 0
}

lab_pid=""
cleanup() {
  [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null
  if [ "${KEEP_LAB:-0}" != 1 ] && { want lab || want integration || want e2e || want molecule; }; then
    echo; echo "=== teardown: scripts/lab.sh down"
    "$REPO/scripts/lab.sh" down > "$LAB_DIR/lab-down.log" 2>&1 || { echo "lab teardown reported errors:"; tail -20 "$LAB_DIR/lab-down.log"; }
  fi
}
trap cleanup EXIT

pytest_stage() {  # pytest_stage NAME PATHS...
  local name="$1"; shift
  # --durations: CI time is a budget, so every log names the slowest tests.
  python -m pytest -p no:cacheprovider --durations=25 --junitxml="$REPORT_DIR/$name.xml" "$@"
  # 5 (nothing collected) stays a failure: every stage has tests, so an empty one is a bug.
}

if want bootstrap; then run_stage bootstrap "$REPO/scripts/bootstrap.sh"; fi
. "$REPO/scripts/env.sh"

if want lab || want integration || want e2e || want molecule; then
  # Slow to start (pip installs, image build, the kube Go build on a fresh machine): overlap with the static stages.
  ( "$REPO/scripts/lab.sh" up neutron keystone netns kube > "$LAB_DIR/lab-up.log" 2>&1; echo $? > "$LAB_DIR/lab-up.rc" ) &
  lab_pid=$!
  # Cilium's own checkers (policy parser Go build, helm fetch, chart module): cached by content, so a warm machine pays nothing.
  ( "$REPO/tests/lab/kube/build.sh" cilium-policy-check && "$REPO/tests/lab/kube/helm.sh" && "$REPO/tests/lab/kube/cilium-chart.sh" ) > "$LAB_DIR/cilium-tools.log" 2>&1 &
  # Talos' own checkers (talos-validate per release, talosctl): cached by content, one after the other (nice'd Go builds).
  ( for t in talos-validate-1.13 talos-validate-1.14 talosctl; do "$REPO/tests/tools/talos/build.sh" "$t" || exit 1; done ) > "$LAB_DIR/talos-tools.log" 2>&1 &
fi
# Pebble (the ACME test server of tests/integration/test_haproxy_acme.py): cached by content, ~1-1.5 min cold.
if want integration; then "$REPO/tests/tools/pebble/build.sh" > "$LAB_DIR/pebble-build.log" 2>&1 & fi

if want unit; then run_stage unit pytest_stage unit -q tests/unit; fi
if want sanity; then run_stage sanity "$REPO/scripts/ansible-test.sh" --leg default sanity; fi
# ansible-test units on the default leg would rerun the unit stage's 1,840 tests under the same
# Python and ansible-core (150 s); the latest leg runs them under the newest ones.
if want sanity-latest; then
  run_stage sanity-latest "$REPO/scripts/ansible-test.sh" --leg latest sanity
  run_stage units-latest "$REPO/scripts/ansible-test.sh" --leg latest units
fi
if want lint; then run_stage lint "$REPO/scripts/lint.sh"; fi
if want build; then run_stage build "$REPO/scripts/build.sh"; fi

lab_ready() {
  if [ -n "$lab_pid" ]; then wait "$lab_pid"; lab_pid=""; fi
  local rc; rc=$(cat "$LAB_DIR/lab-up.rc" 2>/dev/null || echo 1)
  [ "$rc" = 0 ] || { echo "lab did not come up:"; tail -40 "$LAB_DIR/lab-up.log"; }
  return "$rc"
}
lab_stage() { lab_ready && pytest_stage lab -q -m 'not live' tests/lab; }
if want lab; then run_stage lab lab_stage; fi
# Integration: two serial groups at once, then the HA-pair tests alone. Serially the stage took
# 2,495 s on a quiet machine with one core idle about half the time. Group A, normal priority: the
# edge (haproxy, keepalived, BIRD in private edge- namespaces) and Neutron tests (1,144 s of test
# time); group B, niced: the apiserver, Talos, Zitadel and render tests (1,112 s; no namespace, no
# Neutron, no fixed port of the edge's). Group C, alone afterwards: test_lb_ha_bgp, _vrrp and
# _maintenance (231 s) - BFD, VRRP and 10 ms probe timing through the lab router; run beside group B
# on a fresh machine, all 8 of their tests failed (BFD not Up within 15 s, probes overrunning).
# Each group is serial inside; outputs are printed in turn.
integration_stage() {
  local f edge=() rest=() alone=() rc_edge rc_rest rc_alone
  for f in tests/integration/test_*.py; do
    case "$(basename "$f")" in
      test_lb_ha_bgp.py|test_lb_ha_vrrp.py|test_lb_ha_maintenance.py) alone+=("$f") ;;
      test_haproxy_*|test_lb_ha_*|test_gated_*|test_security_group*) edge+=("$f") ;;
      *) rest+=("$f") ;;
    esac
  done
  local log_edge="$REPORT_DIR/integration-edge.log" log_rest="$REPORT_DIR/integration-rest.log"
  pytest_stage integration-edge -q -m 'not live' --basetemp=/tmp/netsec-integration-edge "${edge[@]}" >"$log_edge" 2>&1 &
  local pid_edge=$!
  ( renice -n 5 -p "$BASHPID" >/dev/null
    pytest_stage integration -q -m 'not live' --basetemp=/tmp/netsec-integration-rest "${rest[@]}" ) >"$log_rest" 2>&1
  rc_rest=$?
  wait "$pid_edge"; rc_edge=$?
  echo "--- integration, group A: edge and Neutron (${#edge[@]} files, rc=$rc_edge)"; cat "$log_edge"
  echo "--- integration, group B: the rest (${#rest[@]} files, rc=$rc_rest)"; cat "$log_rest"
  echo "--- integration, group C: the HA pair through the lab router, alone (${#alone[@]} files)"
  pytest_stage integration-ha -q -m 'not live' --basetemp=/tmp/netsec-integration-ha "${alone[@]}"
  rc_alone=$?
  [ "$rc_edge" = 0 ] && [ "$rc_rest" = 0 ] && [ "$rc_alone" = 0 ]
}
if want integration; then
  want lab || lab_ready || true
  run_stage integration integration_stage
fi
# The main job through ansible-runner, as AWX runs it (needs the lab hosts, so before Molecule).
if want e2e; then run_stage e2e pytest_stage e2e -q -m 'not live' tests/e2e; fi
if want molecule; then run_stage molecule "$REPO/scripts/molecule.sh"; fi

echo
echo "=== summary (total $(( $(date +%s) - T_ALL ))s)"
printf '%s\n' "${SUMMARY[@]}"
python - "$REPORT_DIR" <<'PY'
import glob, sys
import xml.etree.ElementTree as ET
t = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in glob.glob(sys.argv[1] + "/*.xml"):
    root = ET.parse(path).getroot()
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        for k in t:
            t[k] += int(suite.get(k, 0))
failed = t["failures"] + t["errors"]
print("pytest total: %d passed, %d failed, %d skipped" % (t["tests"] - failed - t["skipped"], failed, t["skipped"]))
PY
exit $failed
