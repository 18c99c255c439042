#!/bin/sh
# Rotor exec hook: writes a delivered pair into a Kubernetes Secret through
# the API server, as the pod's service account. Register it with --env, so
# that the pair arrives in the hook's environment:
#
#   rotor target add billing --env \
#       --exec "/etc/rotor/hooks/update-k8s-secret.sh billing-api-credentials"
#
# The Secret must exist and the Role in rotor.yaml must allow `patch` on it.
# It receives VITALERA_APPLICATION_ID, VITALERA_CLIENT_ID and
# VITALERA_CLIENT_SECRET, the keys of Rotor's env file format, so pods can use
# it with envFrom. The secret goes through shell builtins and pipes only,
# never through a process's arguments. Exit status 0 means delivered; Rotor
# retries anything else with backoff.
#
# ROTOR_K8S_API and ROTOR_K8S_SERVICEACCOUNT_DIR override the in-cluster
# defaults (for tests outside a cluster).
set -eu
name=${1:?usage: update-k8s-secret.sh SECRET_NAME}
: "${ROTOR_CLIENT_ID:?register the target with --env}"
: "${ROTOR_CLIENT_SECRET:?register the target with --env}"
api=${ROTOR_K8S_API:-https://kubernetes.default.svc}
account=${ROTOR_K8S_SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
namespace=$(cat "$account/namespace")
token=$(cat "$account/token")

encode() { printf '%s' "$1" | base64 | tr -d '\n'; }
application_id=$(encode "$ROTOR_APPLICATION_ID")
client_id=$(encode "$ROTOR_CLIENT_ID")
client_secret=$(encode "$ROTOR_CLIENT_SECRET")

# curl reads its settings, token and body from stdin: nothing in argv.
curl --fail --silent --show-error --max-time 20 --config - <<CONFIG
url = "$api/api/v1/namespaces/$namespace/secrets/$name"
request = "PATCH"
cacert = "$account/ca.crt"
header = "Authorization: Bearer $token"
header = "Content-Type: application/merge-patch+json"
output = "/dev/null"
data = "{\"metadata\":{\"annotations\":{\"rotor/version\":\"$ROTOR_VERSION\"}},\"data\":{\"VITALERA_APPLICATION_ID\":\"$application_id\",\"VITALERA_CLIENT_ID\":\"$client_id\",\"VITALERA_CLIENT_SECRET\":\"$client_secret\"}}"
CONFIG
echo "updated Secret $namespace/$name to version $ROTOR_VERSION"
