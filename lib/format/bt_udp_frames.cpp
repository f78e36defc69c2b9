// BEP 15 datagrams, big-endian throughout.
#include "format/bt_udp_frames.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace p2p::bt_udp {

namespace {

template <typename T>
T read_be(std::span<const std::uint8_t> in, std::size_t at) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | in[at + i]);
  return v;
}

template <typename T>
void put_be(std::string& out, T v) {
  for (std::size_t i = sizeof(T); i-- > 0;) out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
}

Hash20 read_hash(std::span<const std::uint8_t> in, std::size_t at) {
  Hash20 h{};
  std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), h.size(), h.begin());
  return h;
}

}  // namespace

std::string parse_request(std::span<const std::uint8_t> in, Request& out) {
  out = Request{};
  if (in.size() < 16) return fmt::format("udp: a request is at least 16 bytes, got {}", in.size());
  if (in.size() > kMaxRequest) return fmt::format("udp: a request is at most {} bytes, got {}", kMaxRequest, in.size());
  out.connection_id = read_be<std::uint64_t>(in, 0);
  std::uint32_t action = read_be<std::uint32_t>(in, 8);
  out.transaction_id = read_be<std::uint32_t>(in, 12);
  switch (action) {
    case 0:
      out.action = Action::connect;
      if (out.connection_id != kProtocolId) return "udp: connect without the BEP 15 protocol id";
      return {};
    case 1:
      out.action = Action::announce;
      if (in.size() < kAnnounceSize)
        return fmt::format("udp: announce is {} bytes, needs {}", in.size(), kAnnounceSize);
      out.info_hash = read_hash(in, 16);
      out.peer_id = read_hash(in, 36);
      out.downloaded = read_be<std::uint64_t>(in, 56);
      out.left = read_be<std::uint64_t>(in, 64);
      out.uploaded = read_be<std::uint64_t>(in, 72);
      out.event = read_be<std::uint32_t>(in, 80);
      if (out.event > 3) return fmt::format("udp: announce event must be 0-3, got {}", out.event);
      out.ip = read_be<std::uint32_t>(in, 84);
      out.key = read_be<std::uint32_t>(in, 88);
      out.num_want = static_cast<std::int32_t>(read_be<std::uint32_t>(in, 92));
      out.port = read_be<std::uint16_t>(in, 96);
      return {};
    case 2: {
      out.action = Action::scrape;
      std::size_t body = in.size() - kScrapeHeader;
      if (body == 0 || body % 20 != 0)
        return fmt::format("udp: scrape carries 20-byte info hashes, got {} bytes", body);
      if (body / 20 > kMaxScrapeHashes)
        return fmt::format("udp: at most {} info hashes per scrape, got {}", kMaxScrapeHashes, body / 20);
      for (std::size_t at = kScrapeHeader; at < in.size(); at += 20) out.hashes.push_back(read_hash(in, at));
      return {};
    }
    default: return fmt::format("udp: unknown action {}", action);
  }
}

void connect_reply(std::string& out, std::uint32_t transaction_id, std::uint64_t connection_id) {
  out.clear();
  put_be<std::uint32_t>(out, 0);
  put_be(out, transaction_id);
  put_be(out, connection_id);
}

std::string connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id) {
  std::string out;
  connect_reply(out, transaction_id, connection_id);
  return out;
}

void announce_reply(std::string& out, std::uint32_t transaction_id, std::uint32_t interval, std::uint32_t leechers,
                    std::uint32_t seeders, std::string_view peers) {
  out.clear();
  out.reserve(20 + peers.size());
  put_be<std::uint32_t>(out, 1);
  put_be(out, transaction_id);
  put_be(out, interval);
  put_be(out, leechers);
  put_be(out, seeders);
  out.append(peers);
}

std::string announce_reply(std::uint32_t transaction_id, std::uint32_t interval, std::uint32_t leechers,
                           std::uint32_t seeders, std::string_view peers) {
  std::string out;
  announce_reply(out, transaction_id, interval, leechers, seeders, peers);
  return out;
}

std::string scrape_reply(std::uint32_t transaction_id, std::span<const ScrapeEntry> entries) {
  std::string out;
  put_be<std::uint32_t>(out, 2);
  put_be(out, transaction_id);
  for (const ScrapeEntry& e : entries) {
    put_be(out, e.seeders);
    put_be(out, e.completed);
    put_be(out, e.leechers);
  }
  return out;
}

void error_reply(std::string& out, std::uint32_t transaction_id, std::string_view message) {
  out.clear();
  put_be<std::uint32_t>(out, 3);
  put_be(out, transaction_id);
  out.append(message);
}

std::string error_reply(std::uint32_t transaction_id, std::string_view message) {
  std::string out;
  error_reply(out, transaction_id, message);
  return out;
}

}  // namespace p2p::bt_udp
