// LAN announces (docs/PROTOCOL.md, "LAN announces"): the UDP multicast datagram a
// node sends to say which swarms it is in, to bytes and back. No sockets here; the
// decoder checks the size, every field and every count before trusting it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"

namespace p2p::lan {

inline constexpr int kVersion = 1;
inline constexpr std::string_view kProtocolName = "p2p-share-lan";
// Our own group and port: BEP 14 (239.192.152.143 / ff15::efc0:988f, port 6771) carries
// another format, and a BitTorrent client listening there must not be fed ours.
// 239.192.0.0/14 is the IPv4 organization-local scope; ff12:: is a transient group of
// link-local scope (never routed off the link). 0x70 0x32 = "p2".
inline constexpr std::string_view kGroupV4 = "239.192.112.50";
inline constexpr std::string_view kGroupV6 = "ff12::7032:7073";
inline constexpr std::uint16_t kPort = 6776;

// A datagram must cross any link unfragmented: IPv6's minimum MTU (1280) minus the IPv6
// and UDP headers leaves 1232; 1200 keeps room for tunnels' own headers.
inline constexpr std::size_t kMaxDatagramBytes = 1200;
// 16 swarm ids of 64 hex digits ("…", 67 bytes each) plus the other fields fit in
// kMaxDatagramBytes with room to spare (checked in lan_announce_test.cpp).
inline constexpr std::size_t kMaxSwarmsPerDatagram = 16;
inline constexpr std::size_t kNodeIdBytes = 16;  // 128 random bits: two processes never collide
// Bounds the JSON parse itself: 6 fields, a list of kMaxSwarmsPerDatagram ids, a few
// unknown fields a later minor revision may add (ignored), nothing nested deeper.
inline constexpr std::uint64_t kMaxJsonValues = 48;
inline constexpr int kMaxJsonDepth = 2;

using NodeId = std::array<std::uint8_t, kNodeIdBytes>;

enum class Kind {
  announce,  // "here I am": a node that is in one of these swarms answers
  answer,    // sent because of someone's announce: never answered (no ping-pong)
};

struct Announce {
  Kind kind = Kind::announce;
  NodeId node{};                // random per process: a node ignores its own datagrams
  std::uint16_t port = 0;       // the TCP port the sender accepts peers on (1..65535)
  std::vector<Digest> swarms;   // public ids (Torrent::public_id()), 1..kMaxSwarmsPerDatagram, distinct
  bool operator==(const Announce&) const = default;
};

std::string_view kind_name(Kind kind);

// One datagram. Throws std::invalid_argument for an announce that breaks the limits
// above (no swarm, too many, duplicates, port 0): a bug of ours, never network input.
std::string encode(const Announce& a);

// As many datagrams as `swarms` needs (kMaxSwarmsPerDatagram ids each, in order), at
// most `max_datagrams`; the ids left over are for the next round (the caller rotates).
std::vector<std::string> encode_all(Kind kind, const NodeId& node, std::uint16_t port,
                                    const std::vector<Digest>& swarms, std::size_t max_datagrams);

// Why a datagram was refused (counted by the receiver; see docs/PROTOCOL.md).
enum class Refusal { none, too_large, not_json, not_ours, other_version, bad_field };
std::string_view refusal_name(Refusal r);

// Decodes one datagram; nullopt with `why` (and `detail`: which field) if it is not a
// valid version-1 announce. Any bytes are safe to pass.
std::optional<Announce> decode(std::string_view datagram, Refusal& why, std::string& detail);

}  // namespace p2p::lan
