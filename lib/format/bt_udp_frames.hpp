// BEP 15 (UDP tracker protocol) datagrams: parsing a request with every length
// checked, and writing the four answers. No sockets: tracker/udp_tracker.* is the edge.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace p2p::bt_udp {

constexpr std::uint64_t kProtocolId = 0x41727101980;
enum class Action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

constexpr std::size_t kConnectSize = 16;
constexpr std::size_t kAnnounceSize = 98;     // BEP 41 options may follow; they are ignored
constexpr std::size_t kScrapeHeader = 16;
constexpr std::size_t kMaxScrapeHashes = 74;  // BEP 15: what fits one datagram
constexpr std::size_t kMaxRequest = 1500;     // larger is not a tracker request

using Hash20 = std::array<std::uint8_t, 20>;

struct Request {
  Action action = Action::connect;
  std::uint32_t transaction_id = 0;
  std::uint64_t connection_id = 0;  // for connect: the protocol id
  // announce
  Hash20 info_hash{}, peer_id{};
  std::uint64_t downloaded = 0, left = 0, uploaded = 0;
  std::uint32_t event = 0;  // 0 none, 1 completed, 2 started, 3 stopped
  std::uint32_t ip = 0;     // 0: the sender's address
  std::uint32_t key = 0;
  std::int32_t num_want = -1;  // -1: the tracker's default
  std::uint16_t port = 0;
  // scrape
  std::vector<Hash20> hashes;
};

// Fills `out`; returns an empty string or what is wrong (lengths, action, protocol id).
// A failed parse with out.transaction_id set (size >= 16) may be answered with an error.
std::string parse_request(std::span<const std::uint8_t> in, Request& out);

std::string connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id);
// `peers` is the compact peer string (6 bytes each over IPv4, 18 over IPv6).
std::string announce_reply(std::uint32_t transaction_id, std::uint32_t interval, std::uint32_t leechers,
                           std::uint32_t seeders, std::string_view peers);
struct ScrapeEntry {
  std::uint32_t seeders = 0, completed = 0, leechers = 0;
};
std::string scrape_reply(std::uint32_t transaction_id, std::span<const ScrapeEntry> entries);
std::string error_reply(std::uint32_t transaction_id, std::string_view message);

// The same answers written over `out` (its capacity kept: no allocation once warm).
void connect_reply(std::string& out, std::uint32_t transaction_id, std::uint64_t connection_id);
void announce_reply(std::string& out, std::uint32_t transaction_id, std::uint32_t interval, std::uint32_t leechers,
                    std::uint32_t seeders, std::string_view peers);
void error_reply(std::string& out, std::uint32_t transaction_id, std::string_view message);

}  // namespace p2p::bt_udp
