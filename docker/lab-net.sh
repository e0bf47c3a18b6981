#!/bin/sh
# The routed lab's network setup inside a container, then exec the command given.
# docker-compose.yml (rendered from config/lab/topology.yaml) sets:
#   LAB_INTERFACES  "NAME=ADDRESS ...": rename the interface holding ADDRESS to NAME, since
#                   Docker names them eth0, eth1… in an order of its own and frr.conf uses the
#                   topology's names
#   LAB_GATEWAY     the default route (hosts); lab networks are internal, so Docker sets none
#   LAB_LOOPBACK    "ADDRESS/LEN ...": service addresses put on lo (servers)
set -eu

for pair in ${LAB_INTERFACES:-}; do
  name=${pair%%=*}
  address=${pair#*=}
  current=$(ip -o -4 addr show | awk -v a="$address" '{ split($4, p, "/"); if (p[1] == a) print $2 }')
  if [ -z "$current" ]; then
    echo "lab-net: no interface holds $address" >&2
    exit 1
  fi
  if [ "$current" != "$name" ]; then
    ip link set dev "$current" down
    ip link set dev "$current" name "$name"
    ip link set dev "$name" up
  fi
done

for cidr in ${LAB_LOOPBACK:-}; do
  ip addr replace "$cidr" dev lo
done

if [ -n "${LAB_GATEWAY:-}" ]; then
  ip route replace default via "$LAB_GATEWAY"
fi

exec "$@"
