//! TCP and UDP conversations: who talked to whom, how much, and how the
//! TCP connections opened and closed.

use super::summary::{Summary, Transport};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;

/// Where a TCP connection got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// Only the client's SYN was seen.
    SynSent,
    /// SYN and SYN-ACK seen, the final ACK not yet.
    SynReceived,
    /// Handshake complete.
    Established,
    /// One side sent FIN.
    HalfClosed,
    /// Both sides sent FIN.
    Closed,
    /// Aborted with RST.
    Reset,
    /// Seen mid-stream: the handshake was not captured.
    MidStream,
    /// UDP has no connection state.
    Udp,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Stream number, 0-based in order of first packet (per protocol, like Wireshark's `tcp.stream`).
    pub stream: usize,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The side that spoke first (or sent the SYN).
    pub client: (IpAddr, u16),
    /// The other side.
    pub server: (IpAddr, u16),
    /// First packet time, ns.
    pub first_ns: u64,
    /// Last packet time, ns.
    pub last_ns: u64,
    /// Packets client → server.
    pub packets_to_server: u64,
    /// Packets server → client.
    pub packets_to_client: u64,
    /// Payload bytes client → server.
    pub bytes_to_server: u64,
    /// Payload bytes server → client.
    pub bytes_to_client: u64,
    /// TCP state.
    pub state: FlowState,
    /// Initial round-trip time: SYN to the handshake's final ACK, as seen where the capture ran.
    pub handshake_rtt_ns: Option<u64>,
    #[serde(skip)]
    syn_ns: Option<u64>,
    #[serde(skip)]
    fin_from: [bool; 2],
}

type Key = (u8, (IpAddr, u16), (IpAddr, u16));

/// A fast, non-cryptographic hasher for flow keys (the Fx hash of rustc):
/// keys come from a capture being read, not from an attacker who gains
/// anything by colliding them, and SipHash cost showed in the summary path.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }

    fn write_u16(&mut self, v: u16) {
        self.write_u64(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Assigns packets to conversations.
#[derive(Debug, Default)]
pub struct FlowTable {
    index: HashMap<Key, usize, FxBuild>,
    flows: Vec<Flow>,
    streams: [usize; 2],
    reuse: bool,
}

impl FlowTable {
    /// A new, empty table.
    pub fn new() -> FlowTable {
        FlowTable::default()
    }

    /// A table for numbering streams over captures of any length: a
    /// finished connection's slot is taken by the next one on the same
    /// addresses and ports, so memory grows with the address pairs in use,
    /// not with the connections over time ([`FlowTable::flows`] then lists
    /// only the latest per pair).
    pub fn for_streams() -> FlowTable {
        FlowTable {
            reuse: true,
            ..FlowTable::default()
        }
    }

    /// Accounts one packet; returns its flow's stream number, for TCP/UDP packets.
    pub fn observe(&mut self, s: &Summary<'_>, ts_ns: u64) -> Option<usize> {
        let (proto, src, sp, dst, dp) = s.five_tuple()?;
        let transport = s.innermost().transport;
        let (flags, len) = match transport {
            Transport::Tcp { flags, len, .. } => (flags, len as u64),
            Transport::Udp { len, .. } => (0, len as u64),
            _ => return None,
        };
        let (a, b) = ((src, sp), (dst, dp));
        let key = if a <= b { (proto, a, b) } else { (proto, b, a) };
        let syn_only = proto == 6 && flags & 0x12 == 0x02;
        let existing = self.index.get(&key).copied().filter(|&i| {
            // A fresh SYN on a finished connection starts a new one (port reuse).
            !(syn_only && matches!(self.flows[i].state, FlowState::Closed | FlowState::Reset))
        });
        let i = match existing {
            Some(i) => i,
            None => {
                let slot = usize::from(proto == 17);
                let stream = self.streams[slot];
                self.streams[slot] += 1;
                // The client is whoever sent the SYN; a lone SYN-ACK means the other side.
                let (client, server) = if proto == 6 && flags & 0x12 == 0x12 {
                    (b, a)
                } else {
                    (a, b)
                };
                let state = match (proto, syn_only) {
                    (17, _) => FlowState::Udp,
                    (_, true) => FlowState::SynSent,
                    _ => FlowState::MidStream,
                };
                let flow = Flow {
                    stream,
                    protocol: if proto == 6 { "tcp" } else { "udp" }.into(),
                    client,
                    server,
                    first_ns: ts_ns,
                    last_ns: ts_ns,
                    packets_to_server: 0,
                    packets_to_client: 0,
                    bytes_to_server: 0,
                    bytes_to_client: 0,
                    state,
                    handshake_rtt_ns: None,
                    syn_ns: syn_only.then_some(ts_ns),
                    fin_from: [false; 2],
                };
                match self.index.get(&key) {
                    Some(&old) if self.reuse => {
                        self.flows[old] = flow;
                        old
                    }
                    _ => {
                        self.flows.push(flow);
                        self.index.insert(key, self.flows.len() - 1);
                        self.flows.len() - 1
                    }
                }
            }
        };
        let f = &mut self.flows[i];
        f.last_ns = ts_ns;
        let to_server = a == f.client;
        if to_server {
            f.packets_to_server += 1;
            f.bytes_to_server += len;
        } else {
            f.packets_to_client += 1;
            f.bytes_to_client += len;
        }
        if proto == 6 {
            advance(f, flags, to_server, ts_ns);
        }
        Some(f.stream)
    }

    /// The conversations in order of first packet.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }
}

fn advance(f: &mut Flow, flags: u8, to_server: bool, ts_ns: u64) {
    let (syn, ack, fin, rst) = (
        flags & 0x02 != 0,
        flags & 0x10 != 0,
        flags & 0x01 != 0,
        flags & 0x04 != 0,
    );
    if rst {
        f.state = FlowState::Reset;
        return;
    }
    match f.state {
        FlowState::SynSent if syn && ack && !to_server => f.state = FlowState::SynReceived,
        FlowState::SynReceived if ack && !syn && to_server => {
            f.state = FlowState::Established;
            f.handshake_rtt_ns = f.syn_ns.map(|s| ts_ns.saturating_sub(s));
        }
        _ => {}
    }
    if fin {
        f.fin_from[usize::from(!to_server)] = true;
        f.state = if f.fin_from == [true, true] {
            FlowState::Closed
        } else {
            FlowState::HalfClosed
        };
    }
}
