#!/usr/bin/env bash
# Records the "real world" captures the peer-agreement tests read (see
# core/tests/peers.rs). Run as root; touches only the network namespaces it
# creates (pkw-*) and removes them on exit. Each file stays a few KiB.
#   snap96.pcap     HTTP download captured with `tcpdump -s 96` (every big packet cut)
#   nano.pcap       the same kind of traffic with nanosecond timestamps
#   nflog.pcap      pings and DNS logged by `iptables -j NFLOG`, read from nflog:5
#   multi.pcapng    dumpcap on a veth and on nflog:5 at once: two interfaces, two link types
#   ipv6.pcap       IPv6 neighbour discovery, MLD (hop-by-hop header), fragmented ping6
#   tunnels.pcap    GRE (plain, keyed, Ethernet, ERSPAN II), IP-in-IP, 6in4, GENEVE
#                   with and without options, WireGuard, SCTP, DCCP, 802.1Q, QinQ,
#                   MPLS, an unknown EtherType: built by craft.py (this kernel has
#                   none of those modules), sent over the veth, recorded by tcpdump
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
cleanup() {
  for ns in pkw-a pkw-b; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; done
  rm -rf /tmp/pkw-www
}
trap cleanup EXIT
cleanup
ip netns add pkw-a; ip netns add pkw-b
ip link add veth-a netns pkw-a type veth peer name veth-b netns pkw-b
ip -n pkw-a addr add 10.0.0.1/24 dev veth-a; ip -n pkw-b addr add 10.0.0.2/24 dev veth-b
ip -n pkw-a -6 addr add 2001:db8::1/64 dev veth-a nodad; ip -n pkw-b -6 addr add 2001:db8::2/64 dev veth-b nodad
for ns in a b; do ip -n pkw-$ns link set veth-$ns up; ip -n pkw-$ns link set lo up; done
sleep 1
A=pkw-a; B=pkw-b
mac_a=$(ip -n $A -br link show veth-a | awk '{print $3}'); mac_b=$(ip -n $B -br link show veth-b | awk '{print $3}')

capture() { # NS IFACE FILE [tcpdump args...] -- starts a capture, sets $cap
  local ns=$1 ifc=$2 file=$3; shift 3
  ip netns exec "$ns" tcpdump -U -nn -i "$ifc" -w "$file" "$@" 2>/dev/null & cap=$!
  sleep 1
}
stop() { sleep 1; kill $cap; wait $cap 2>/dev/null || true; }

# A 6 KB page, so the response fills several full-size segments.
mkdir -p /tmp/pkw-www && head -c 6000 /dev/zero | tr '\0' 'x' > /tmp/pkw-www/big.txt
ip netns exec $B python3 -m http.server 80 --bind 10.0.0.2 --directory /tmp/pkw-www >/dev/null 2>&1 &
sleep 1
capture $A veth-a "$out/snap96.pcap" -s 96 tcp port 80
ip netns exec $A curl -s http://10.0.0.2/big.txt >/dev/null
stop
capture $A veth-a "$out/nano.pcap" --time-stamp-precision=nano icmp
ip netns exec $A ping -c 2 -i 0.2 10.0.0.2 >/dev/null
stop

# NFLOG: log what leaves pkw-a to group 5, read it as a capture interface.
ip netns exec $A iptables -A OUTPUT -o veth-a -j NFLOG --nflog-group 5 --nflog-prefix layerlab
capture $A nflog:5 "$out/nflog.pcap"
ip netns exec $A ping -c 2 -i 0.2 10.0.0.2 >/dev/null
ip netns exec $A ping -6 -c 1 2001:db8::2 >/dev/null
ip netns exec $A python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"hello nflog", ("10.0.0.2", 9999))'
stop
# Two interfaces with different link types in one pcapng.
ip netns exec $A dumpcap -q -i veth-a -i nflog:5 -w "$out/multi.pcapng" 2>/dev/null & cap=$!
sleep 2
ip netns exec $A ping -c 2 -i 0.2 10.0.0.2 >/dev/null
stop
ip netns exec $A iptables -F OUTPUT

# IPv6: a fresh neighbour cache (solicitation + advertisement), MLD
# reports with a hop-by-hop header when joining a group, a fragmented ping.
ip netns exec $A ip -6 neigh flush all
capture $A veth-a "$out/ipv6.pcap" ip6
ip netns exec $A ping -6 -c 1 2001:db8::2 >/dev/null
ip netns exec $A ping -6 -c 1 -s 2000 2001:db8::2 >/dev/null
ip -n $A link set veth-a down; ip -n $A link set veth-a up   # rejoins groups: MLD reports, router solicitation
sleep 2
stop

# Encapsulations the kernel here cannot build: crafted frames over the veth.
capture $B veth-b "$out/tunnels.pcap"
for kind in gre ipip geneve wireguard sctp dccp vlan mpls unknown; do
  ip netns exec $A python3 "$out/craft.py" veth-a "$mac_a" "$mac_b" $kind
done
stop
for f in snap96.pcap nano.pcap nflog.pcap multi.pcapng ipv6.pcap tunnels.pcap; do
  echo "$f: $(tcpdump -r "$out/$f" 2>/dev/null | wc -l) packets, $(stat -c %s "$out/$f") bytes"
done
