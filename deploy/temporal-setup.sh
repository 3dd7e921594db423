#!/bin/sh
# One-shot (temporalio/admin-tools, or anywhere the `temporal` CLI is installed): wait until the Temporal
# frontend is serving, create the namespace, and register the search attributes the orders keep current
# (OrderStatus, CustomerId, ReasonCode, CancelPath, CanceledBy: Keyword; what the report counts: ItemsCanceled:
# Bool, RequestsDenied, Decisions and Modifications: Int, DecisionSeconds: Double, CanceledVia: Keyword). Idempotent: an existing namespace is left as
# it is, and registering an attribute that exists with the same type succeeds. The worker registers them too on
# start.
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE (default: default),
# NAMESPACE_RETENTION (how long closed orders stay visible; default: 30d).
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
# NAME:TYPE each (workflows/search_attributes.py).
SEARCH_ATTRIBUTES="OrderStatus:Keyword CustomerId:Keyword ReasonCode:Keyword CancelPath:Keyword CanceledBy:Keyword
ItemsCanceled:Bool RequestsDenied:Int Decisions:Int DecisionSeconds:Double Modifications:Int CanceledVia:Keyword"

# Dial the frontend by IPv4 address, as temporalio/samples-server's compose scripts do: the server binds
# 0.0.0.0, and the container's resolver may return an IPv6 address first.
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
ip="$(getent ahosts "$host" 2>/dev/null | awk '/STREAM/ && $1 ~ /^[0-9.]+$/ { print $1; exit }')" || ip=""
ADDRESS="${ip:-$host}:$port"

retry() {
    # retry <attempts> <what> <command...>: the frontend and a new namespace take a moment to be usable.
    attempts="$1"
    what="$2"
    shift 2
    n=0
    until "$@"; do
        n=$((n + 1))
        if [ "$n" -ge "$attempts" ]; then
            echo "setup: $what failed after $attempts attempts" >&2
            return 1
        fi
        sleep 2
    done
}

echo "setup: waiting for Temporal at $TEMPORAL_ADDRESS ($ADDRESS)"
retry 60 "cluster health" temporal operator cluster health --address "$ADDRESS"

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "setup: namespace $NAMESPACE exists"
else
    echo "setup: creating namespace $NAMESPACE (retention $RETENTION)"
    temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

for entry in $SEARCH_ATTRIBUTES; do
    name="${entry%%:*}"
    type="${entry##*:}"
    echo "setup: search attribute $name ($type) in $NAMESPACE"
    retry 15 "search attribute $name" temporal operator search-attribute create \
        --address "$ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type"
done
echo "setup: done"
