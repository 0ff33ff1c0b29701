#!/usr/bin/env python3
"""Sends hand-built frames out of a veth with an AF_PACKET socket, for the
encapsulations this machine's kernel cannot make itself (no GRE, IPIP, SIT,
GENEVE, 802.1Q, MPLS, SCTP, DCCP or WireGuard modules). tcpdump on the
other end of the veth records them, so the capture file and its packets'
trip through the kernel are real; only their bytes are built here.

    craft.py IFACE SRC_MAC DST_MAC KIND   (KIND: see FRAMES below)
"""
import socket
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64, ident=1, frag=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def pseudo(src, dst, proto, length):
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
                + struct.pack("!IxxxB", length, proto))
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", proto, length)


def udp(src, dst, sp, dp, payload):
    hdr = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0)
    c = csum(pseudo(src, dst, 17, 8 + len(payload)) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def tcp(src, dst, sp, dp, seq, ack, flags, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 64240, 0, 0)
    c = csum(pseudo(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def icmp_echo(ident, seq, data=b"layerlab-ping-data"):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def eth(dst, src, ethertype, payload):
    return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + struct.pack("!H", ethertype) + payload


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return ~crc & 0xFFFFFFFF


def sctp(src, dst, sp, dp, vtag, chunk):
    hdr = struct.pack("!HHII", sp, dp, vtag, 0)
    c = crc32c(hdr + chunk)
    return hdr[:8] + struct.pack("<I", c) + chunk


def dccp(src, dst, sp, dp, kind, seq):
    # Generic header with 48-bit sequence number (X=1); a Request carries a service
    # code, a Response an acknowledgement number and the service code.
    extra = struct.pack("!I", 42) if kind == 0 else struct.pack("!HHII", 0, 0, 1, 42)
    doff = (16 + len(extra)) // 4
    hdr = struct.pack("!HHBBH", sp, dp, doff, 0, 0) + struct.pack("!BBHI", (kind << 1) | 1, 0, seq >> 32, seq & 0xFFFFFFFF) + extra
    c = csum(pseudo(src, dst, 33, len(hdr)) + hdr)
    return hdr[:6] + struct.pack("!H", c) + hdr[8:]


A, B = "10.0.0.1", "10.0.0.2"


def inner_ping(seq=1):
    return ipv4("192.168.7.1", "192.168.7.2", 1, icmp_echo(7, seq))


def frames(src_mac, dst_mac):
    inner_eth = eth("02:00:00:00:07:02", "02:00:00:00:07:01", 0x0800, inner_ping())
    gre = struct.pack("!HH", 0, 0x0800) + inner_ping()
    gre_key = struct.pack("!HHI", 0x2000, 0x0800, 1001) + inner_ping(2)
    gre_teb = struct.pack("!HH", 0, 0x6558) + inner_eth
    erspan2 = struct.pack("!HHI", 0x1000, 0x88BE, 5) + struct.pack("!HHI", 0x1000 | 10, 123, 0) + inner_eth
    ipip = inner_ping(3)
    six = ipv6("2001:db8:7::1", "2001:db8:7::2", 58,
               b"\x80\x00" + struct.pack("!H", 0) + struct.pack("!HH", 9, 1) + b"6in4")
    # ICMPv6 checksum over the pseudo header.
    body = six[40:]
    c = csum(pseudo("2001:db8:7::1", "2001:db8:7::2", 58, len(body)) + body)
    six = six[:42] + struct.pack("!H", c) + six[44:]
    geneve_opts = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x00\x11\x22\x33"
    geneve = struct.pack("!BBHI", len(geneve_opts) // 4, 0, 0x6558, 77 << 8) + geneve_opts + inner_eth
    geneve_plain = struct.pack("!BBHI", 0, 0, 0x6558, 78 << 8) + inner_eth
    wg_init = struct.pack("<I", 1) + bytes(range(144))
    wg_resp = struct.pack("<I", 2) + bytes(88)
    wg_data = struct.pack("<I", 4) + bytes(12) + bytes(48)
    mpls = struct.pack("!II", (100 << 12) | 64, (200 << 12) | 0x100 | 63) + inner_ping(4)
    out = {
        "gre": [ipv4(A, B, 47, gre), ipv4(A, B, 47, gre_key), ipv4(A, B, 47, gre_teb), ipv4(A, B, 47, erspan2)],
        "ipip": [ipv4(A, B, 4, ipip), ipv4(A, B, 41, six)],
        "geneve": [ipv4(A, B, 17, udp(A, B, 40000, 6081, geneve)), ipv4(A, B, 17, udp(A, B, 40001, 6081, geneve_plain))],
        "wireguard": [ipv4(A, B, 17, udp(A, B, 51820, 51821, wg_init)), ipv4(B, A, 17, udp(B, A, 51821, 51820, wg_resp)),
                      ipv4(A, B, 17, udp(A, B, 51820, 51821, wg_data))],
        "sctp": [ipv4(A, B, 132, sctp(A, B, 5000, 6000, 0, struct.pack("!BBHIIHHI", 1, 0, 20, 0xABCD, 65536, 10, 10, 1))),
                 ipv4(B, A, 132, sctp(B, A, 6000, 5000, 0xABCD, struct.pack("!BBH", 11, 0, 4)))],
        "dccp": [ipv4(A, B, 33, dccp(A, B, 7000, 8000, 0, 1)), ipv4(B, A, 33, dccp(B, A, 8000, 7000, 1, 2))],
    }
    res = {k: [eth(dst_mac, src_mac, 0x0800, p) for p in v] for k, v in out.items()}
    tcp_syn = ipv4(A, B, 6, tcp(A, B, 33000, 80, 1, 0, 0x02))
    res["vlan"] = [
        eth(dst_mac, src_mac, 0x8100, struct.pack("!HH", 10, 0x0800) + ipv4(A, B, 1, icmp_echo(1, 1))),
        eth(dst_mac, src_mac, 0x88A8, struct.pack("!HH", 100, 0x8100) + struct.pack("!HH", 20, 0x0800) + tcp_syn),
    ]
    res["mpls"] = [eth(dst_mac, src_mac, 0x8847, mpls)]
    res["unknown"] = [eth(dst_mac, src_mac, 0x88B5, b"local experimental ethertype".ljust(46, b"\0"))]
    return res


def main():
    iface, src_mac, dst_mac, kind = sys.argv[1:5]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for f in frames(src_mac, dst_mac)[kind]:
        s.send(f)


if __name__ == "__main__":
    main()
