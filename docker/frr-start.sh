#!/bin/bash
# A lab router: FRR as Debian starts it (frrinit.sh: watchfrr, the daemons, then the
# integrated /etc/frr/frr.conf through vtysh -b), with the daemons FRR_DAEMONS lists
# ("zebra ospfd bgpd"; zebra always runs). Stops FRR cleanly on SIGTERM.
set -eu

{
  for daemon in ${FRR_DAEMONS:-zebra}; do
    [ "$daemon" = zebra ] || echo "$daemon=yes"
  done
  echo "vtysh_enable=yes"
  # vty on loopback only; no TCP vty is needed, vtysh uses the sockets.
  echo 'zebra_options="-A 127.0.0.1"'
  echo 'bgpd_options="-A 127.0.0.1"'
  echo 'ospfd_options="-A 127.0.0.1"'
} > /etc/frr/daemons

/usr/lib/frr/frrinit.sh start
trap '/usr/lib/frr/frrinit.sh stop; exit 0' TERM INT
sleep infinity &
wait $!
