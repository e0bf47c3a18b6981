#!/bin/sh
# A lab server: the demo services on their addresses (on lo, put there by lab-net.sh), then
# the quorate agent, which runs gobgpd. LAB_SITE names the site ("ny"); LAB_SERVICES is
# "NAME=ADDRESS:PORT ...". Each demo service answers GET / with "<site> <name>".
set -eu

for entry in ${LAB_SERVICES:-}; do
  name=${entry%%=*}
  listen=${entry#*=}
  node /opt/quorate/dist/lab/service-main.js --listen "$listen" --body "$LAB_SITE $name" &
done

exec quorate agent --config /etc/quorate/agent.yaml
