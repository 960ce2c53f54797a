#!/bin/bash
# Install the Debian packages the tests and the demo use, only if something is missing.
# Needs root (the namespace router lab needs it anyway); without root it says what to install.
set -euo pipefail
PACKAGES="openssh-server nftables iptables iproute2 iputils-ping socat conntrack sip-tester kamailio chromium openssl procps prometheus"
missing=""
for cmd in /usr/sbin/sshd nft iptables ip ping socat conntrack sipp kamailio chromium openssl pgrep promtool; do
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing:$missing -- as root run: apt-get install -y $PACKAGES (tests needing them will skip)" >&2
  exit 0
fi
echo "installing system packages (missing:$missing)"
export DEBIAN_FRONTEND=noninteractive
# package installs must not start their daemons (prometheus, kamailio, sshd): the tests start what they need
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
