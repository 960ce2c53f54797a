#!/bin/bash
# Network-namespace router lab for the hardening appliance (see shared/docs/lab-recipe.md).
#   lab.sh up    [ID]  build namespaces, links, nftables, sshd, pbx services
#   lab.sh down  [ID]  kill every process inside the lab namespaces, delete them
#   lab.sh rekey [ID]  give the router a new SSH host key and restart its sshd
#   lab.sh gc          down every lab whose ID's leading number is not a live PID
#
#  hl<ID>-app  eth0 10.77.1.10 -+
#                               +- br-lan 10.77.1.1 [hl<ID>-rtr] wan0 192.0.2.1 -- eth0 192.0.2.100 hl<ID>-inet
#  hl<ID>-pbx  eth0 10.77.1.20 -+  sshd :22, nftables DNAT, ip_forward=1
#              http.server :8080, SIP responder udp :5060, socat IMAP banner tcp :143
set -euo pipefail
CMD=${1:?usage: lab.sh up|down|rekey [ID] | gc}
ID=${2:-1}
P="hl${ID}"
APP=$P-app RTR=$P-rtr PBX=$P-pbx INET=$P-inet
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=${LAB_ROOT:-${TMPDIR:-/tmp}/hardening-lab}   # run/<ID>/ holds keys, configs and logs
RUN=$ROOT/run/$ID
PY=${LAB_PY:-python3}
LAN=10.77.1 WAN=192.0.2
SSH_PORT=${LAB_SSH_PORT:-22}

case "$ID" in *[!A-Za-z0-9_]*|"") echo "bad lab ID '$ID' (letters, digits, _)" >&2; exit 2;; esac

wait_listen() {   # ns, ss flags, port: poll (no fixed sleeps) until something listens
  for _ in $(seq 1 200); do
    ip netns exec "$1" ss "$2" "sport = :$3" | grep -q . && return 0
    sleep 0.025
  done
  return 1
}

links() {
  for ns in $APP $RTR $PBX $INET; do ip netns add "$ns"; done
  # veths are created inside the namespaces, so names never collide with the host or other labs
  ip -n $RTR link add br-lan type bridge
  ip -n $RTR link add lan-app type veth peer name eth0 netns $APP
  ip -n $RTR link add lan-pbx type veth peer name eth0 netns $PBX
  ip -n $RTR link add wan0    type veth peer name eth0 netns $INET
  ip -n $RTR link set lan-app master br-lan
  ip -n $RTR link set lan-pbx master br-lan
  ip -n $RTR addr add $LAN.1/24 dev br-lan
  ip -n $RTR addr add $WAN.1/24 dev wan0
  ip -n $APP addr add $LAN.10/24 dev eth0
  ip -n $PBX addr add $LAN.20/24 dev eth0
  ip -n $INET addr add $WAN.100/24 dev eth0
  for ns in $APP $RTR $PBX $INET; do ip -n $ns link set lo up; done
  for d in br-lan lan-app lan-pbx wan0; do ip -n $RTR link set $d up; done
  for ns in $APP $PBX $INET; do ip -n $ns link set eth0 up; done
  ip -n $APP route add default via $LAN.1
  ip -n $PBX route add default via $LAN.1
  ip netns exec $RTR sysctl -qw net.ipv4.ip_forward=1
}

firewall() {
  ip netns exec $RTR nft -f - <<EOF
table ip portfwd {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" tcp dport 8080 dnat to $LAN.20:8080 comment "fwd-pbx-http"
    iifname "wan0" udp dport 5060 dnat to $LAN.20:5060 comment "fwd-pbx-sip"
    iifname "wan0" tcp dport 143  dnat to $LAN.20:143  comment "fwd-pbx-imap"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }
}
table inet fw {
  chain input { type filter hook input priority filter; policy accept; }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "br-lan" accept
    iifname "wan0" ct status dnat accept comment "allow port-forwards"
  }
}
EOF
  # legacy-style rule written with iptables-nft (lands in 'table ip filter')
  ip netns exec $RTR iptables -A INPUT -i wan0 -p tcp --dport 23 -j DROP
}

accounts() {
  # Private passwd/shadow/group/sudoers.d, bind-mounted only in sshd's mount namespace (the
  # host's files are never modified). Log in as 'root': netmiko's linux cleanup waits 10 s
  # for any other uid-0 name. root's home is the lab dir so the host's ~/.bashrc never runs.
  HASH=$(openssl passwd -6 -salt labsalt "${LAB_PASSWORD:-labpass}")
  sed "s|^root:x:0:0:\([^:]*\):[^:]*:|root:x:0:0:\1:$RUN/home:|" /etc/passwd > "$RUN/passwd"
  cp /etc/group "$RUN/group"
  sed "s|^root:[^:]*:|root:$HASH:|" /etc/shadow > "$RUN/shadow"; chmod 640 "$RUN/shadow"
  echo "labuser:x:2001:2001:lab user:$RUN/home:/bin/bash" >> "$RUN/passwd"
  echo "labuser:x:2001:" >> "$RUN/group"
  echo "labuser:$HASH:19000:0:99999:7:::" >> "$RUN/shadow"
  mkdir -p "$RUN/sudoers.d"; echo "labuser ALL=(ALL:ALL) ALL" > "$RUN/sudoers.d/lab"
  chmod 440 "$RUN/sudoers.d/lab"
  ssh-keygen -q -t ed25519 -N '' -f "$RUN/client_key" -C "lab$ID"
  cp "$RUN/client_key.pub" "$RUN/authorized_keys"
  cat > "$RUN/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 0.0.0.0
HostKey $RUN/ssh_host_ed25519_key
PidFile $RUN/sshd.pid
AuthorizedKeysFile $RUN/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin yes
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
}

start_sshd() {
  # ip netns exec gives a private mount namespace; unshare --uts a private hostname;
  # a tmpfs on /run provides sshd's privsep dir without touching the host's /run, and one on /tmp
  # gives the router its own /tmp (a remediation's files are never another lab's or the host's);
  # the lab's run dir (keys, config, PidFile) is carried over into it by a bind mount.
  setsid ip netns exec $RTR unshare --uts sh -c "hostname lab-rtr$ID &&
    mount --bind '$RUN/passwd' /etc/passwd && mount --bind '$RUN/shadow' /etc/shadow &&
    mount --bind '$RUN/group' /etc/group &&
    { [ ! -d /etc/sudoers.d ] || mount --bind '$RUN/sudoers.d' /etc/sudoers.d; } &&
    mount -t tmpfs lab-run /run && mkdir -m 755 /run/sshd && mkdir /run/lab-dir &&
    mount --bind '$RUN' /run/lab-dir && mount -t tmpfs -o mode=1777 lab-tmp /tmp &&
    mkdir -p '$RUN' && mount --bind /run/lab-dir '$RUN' &&
    /usr/sbin/sshd -t -f '$RUN/sshd_config' &&
    exec /usr/sbin/sshd -D -e -f '$RUN/sshd_config'" >> "$RUN/sshd.log" 2>&1 < /dev/null &
}

pbx() {
  mkdir -p "$RUN/www"; echo '<html><title>Allworx Web Admin</title></html>' > "$RUN/www/index.html"
  setsid ip netns exec $PBX "$PY" -m http.server 8080 --bind 0.0.0.0 --directory "$RUN/www" \
      > "$RUN/http.log" 2>&1 < /dev/null &
  setsid ip netns exec $PBX "$PY" "$HERE/sip_responder.py" 0.0.0.0 5060 "$RUN/sip.log" \
      > "$RUN/sip.out" 2>&1 < /dev/null &
  # socat SYSTEM:'echo "* OK"' would glob-expand the '*': serve a file instead
  printf '* OK [CAPABILITY IMAP4rev1] lab ready\r\n' > "$RUN/imap_banner"
  setsid ip netns exec $PBX socat TCP-LISTEN:143,fork,reuseaddr \
      OPEN:"$RUN/imap_banner",rdonly > "$RUN/imap.log" 2>&1 < /dev/null &
}

up() {
  mkdir -p "$ROOT/run"
  # mkdir (no -p) is atomic: the loser of a race on the same ID stops here
  if ! mkdir "$RUN" 2>/dev/null || [ -e "/run/netns/$RTR" ]; then
    echo "lab $ID already exists (namespace $RTR or $RUN)" >&2; exit 3
  fi
  mkdir -p "$RUN/home"
  links
  firewall
  ssh-keygen -q -t ed25519 -N '' -f "$RUN/ssh_host_ed25519_key"
  accounts
  start_sshd
  pbx
  if wait_listen $RTR -Hltn "$SSH_PORT" && wait_listen $PBX -Hltn 8080 &&
     wait_listen $PBX -Hltn 143 && wait_listen $PBX -Hlun 5060; then
    echo "lab $ID up"; return 0
  fi
  echo "lab $ID: services did not come up" >&2; cat "$RUN"/*.log >&2; exit 4
}

rekey() {
  [ -e "/run/netns/$RTR" ] || { echo "lab $ID is not up" >&2; exit 3; }
  kill "$(cat "$RUN/sshd.pid")"
  for _ in $(seq 1 200); do   # a zombie keeps its pid but no socket, so watch the socket
    ip netns exec $RTR ss -Hltn "sport = :$SSH_PORT" | grep -q . || break
    sleep 0.025
  done
  rm -f "$RUN/ssh_host_ed25519_key" "$RUN/ssh_host_ed25519_key.pub"
  ssh-keygen -q -t ed25519 -N '' -f "$RUN/ssh_host_ed25519_key"
  start_sshd
  wait_listen $RTR -Hltn "$SSH_PORT" || { echo "lab $ID: sshd did not restart" >&2; exit 4; }
  echo "lab $ID rekeyed"
}

down() {
  # ip netns del does not kill processes: kill exactly the set this lab started first
  for ns in $APP $RTR $PBX $INET; do
    [ -e "/run/netns/$ns" ] || continue
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  for ns in $APP $RTR $PBX $INET; do
    [ -e "/run/netns/$ns" ] || continue
    for _ in $(seq 1 40); do [ -z "$(ip netns pids "$ns")" ] && break; sleep 0.025; done
    pids=$(ip netns pids "$ns" || true); [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns"
  done
  rm -rf "$RUN"
  echo "lab $ID down"
}

gc() {   # tear down labs whose owning process (numeric ID prefix = pytest PID) is gone
  ids=$(for f in /run/netns/hl*-*; do [ -e "$f" ] && { f=${f#/run/netns/hl}; echo "${f%-*}"; }; done | sort -u)
  for id in $ids; do
    pid=${id%%[!0-9]*}
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then "$0" down "$id"; fi
  done
}

case "$CMD" in
  up|down|rekey|gc) $CMD ;;
  *) echo "unknown command '$CMD' (up|down|rekey|gc)" >&2; exit 2 ;;
esac
