#!/usr/bin/env bash
# Records the real captures the packet tests read. Run as root; touches only
# network namespaces it creates (pkt-*) and removes them on exit.
#   http.pcap      ARP, TCP handshake, GET, 200, FIN teardown over a veth pair
#   http-any.pcap  the same kind of exchange captured with -i any (Linux SLL)
#   vxlan.pcap     ping between two VXLAN endpoints, captured on the underlay
#   dns.pcap       dig against dnsmasq: an A answer and an NXDOMAIN
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
cleanup() {
  for ns in pkt-a pkt-b; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
ip netns add pkt-a; ip netns add pkt-b
ip link add veth-a netns pkt-a type veth peer name veth-b netns pkt-b
ip -n pkt-a addr add 10.0.0.1/24 dev veth-a; ip -n pkt-b addr add 10.0.0.2/24 dev veth-b
ip -n pkt-a link set veth-a up; ip -n pkt-b link set veth-b up
ip -n pkt-a link set lo up; ip -n pkt-b link set lo up
sleep 1

# HTTP over a fresh neighbour table (so ARP is captured).
mkdir -p /tmp/pkt-www && echo "Hello from layerlab" > /tmp/pkt-www/index.html
ip netns exec pkt-b python3 -m http.server 80 --bind 10.0.0.2 --directory /tmp/pkt-www >/dev/null 2>&1 &
sleep 1
ip netns exec pkt-a ip neigh flush all
ip netns exec pkt-a tcpdump -U -nn -i veth-a -w "$out/http.pcap" 2>/dev/null & cap=$!
sleep 1
ip netns exec pkt-a curl -s http://10.0.0.2/ >/dev/null
sleep 1; kill $cap; wait $cap 2>/dev/null || true

ip netns exec pkt-a tcpdump -U -nn -i any -w "$out/http-any.pcap" 'tcp port 80' 2>/dev/null & cap=$!
sleep 1
ip netns exec pkt-a curl -s http://10.0.0.2/ >/dev/null
sleep 1; kill $cap; wait $cap 2>/dev/null || true

# DNS: dnsmasq answers one name and refuses the rest with NXDOMAIN.
ip netns exec pkt-b dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.0.0.2 --bind-interfaces \
  --address=/web.default.svc.cluster.local/10.96.0.42 --address=/#/ >/dev/null 2>&1 &
sleep 1
ip netns exec pkt-a tcpdump -U -nn -i veth-a -w "$out/dns.pcap" 'udp port 53' 2>/dev/null & cap=$!
sleep 1
ip netns exec pkt-a dig +short +tries=1 @10.0.0.2 web.default.svc.cluster.local A >/dev/null || true
ip netns exec pkt-a dig +short +tries=1 @10.0.0.2 nope.default.svc.cluster.local A >/dev/null || true
sleep 1; kill $cap; wait $cap 2>/dev/null || true

# VXLAN VNI 42 across the veth "underlay", overlay 192.168.42.0/24.
ip -n pkt-a link add vx0 type vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dstport 4789 dev veth-a
ip -n pkt-b link add vx0 type vxlan id 42 remote 10.0.0.1 local 10.0.0.2 dstport 4789 dev veth-b
ip -n pkt-a addr add 192.168.42.1/24 dev vx0; ip -n pkt-b addr add 192.168.42.2/24 dev vx0
ip -n pkt-a link set vx0 up; ip -n pkt-b link set vx0 up
sleep 1
ip netns exec pkt-a tcpdump -U -nn -i veth-a -w "$out/vxlan.pcap" 'udp port 4789' 2>/dev/null & cap=$!
sleep 1
ip netns exec pkt-a ping -c 2 -i 0.2 192.168.42.2 >/dev/null
sleep 1; kill $cap; wait $cap 2>/dev/null || true
rm -rf /tmp/pkt-www
for f in http http-any dns vxlan; do echo "$f.pcap: $(tcpdump -r "$out/$f.pcap" 2>/dev/null | wc -l) packets"; done
