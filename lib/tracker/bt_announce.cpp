// BitTorrent HTTP announce and scrape. Every parameter is checked (length,
// range) before use; refusals say which parameter and what was seen, in the
// bencoded "failure reason" a client shows its user.
#include "tracker/bt_announce.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "format/bencode.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace {

constexpr std::string_view kBencodeType = "text/plain";
// key and trackerid are opaque client strings; BEP 3 sets no limit, clients send 4-20 bytes.
constexpr std::size_t kMaxOpaqueBytes = 64;

[[noreturn]] void refuse(std::string reason) { throw BtRefusal{400, std::move(reason)}; }



BtHash parse_bt_hash(std::string_view ep, std::string_view raw) {
  if (raw.size() != 20)
    refuse(fmt::format("{}: info_hash must be 20 bytes (percent-encoded), got {} bytes", ep, raw.size()));
  BtHash h{};
  std::copy(raw.begin(), raw.end(), h.begin());
  return h;
}

}  // namespace

bool is_bt_request(const Query& query) {
  auto v = query.get("info_hash");
  return v && v->size() == 20;
}

std::string bt_failure(std::string_view reason) {
  std::string out = "d";
  bencode::put_str(out, "failure reason");
  bencode::put_str(out, reason);
  out += 'e';
  return out;
}

void compact_peers(const std::vector<PeerEntry>& peers, std::string& v4, std::string& v6) {
  for (const PeerEntry& p : peers) {
    std::uint8_t addr[16];
    char port[2] = {static_cast<char>(p.port >> 8), static_cast<char>(p.port & 0xff)};
    if (::inet_pton(AF_INET, p.ip.c_str(), addr) == 1) {
      v4.append(reinterpret_cast<const char*>(addr), 4).append(port, 2);
    } else if (::inet_pton(AF_INET6, p.ip.c_str(), addr) == 1) {
      v6.append(reinterpret_cast<const char*>(addr), 16).append(port, 2);
    }
  }
}

Task<void> BtAnnounce::announce(const Query& query, std::string_view remote_ip, Clock::time_point now,
                                net::HttpResponse& out) {
  constexpr std::string_view ep = "announce";
  BtHash hash = parse_bt_hash(ep, required_param(query, ep, "info_hash"));
  if (!policy_.allows(hash)) refuse(fmt::format("announce: info_hash {} is not served by this tracker", to_hex(hash)));
  AnnounceInput in;
  in.info_hash = bt_swarm_key(hash);
  std::string_view peer_id = required_param(query, ep, "peer_id");
  if (peer_id.size() != in.peer_id.size())
    refuse(fmt::format("announce: peer_id must be 20 bytes (percent-encoded), got {} bytes", peer_id.size()));
  std::copy(peer_id.begin(), peer_id.end(), in.peer_id.begin());
  in.port = static_cast<std::uint16_t>(uint_param(ep, "port", required_param(query, ep, "port"), 65535));
  if (in.port == 0) refuse("announce: port must be in 1-65535, got 0");
  std::string_view event = query.get("event").value_or("");
  // "paused" (BEP 21) is a peer that stays in the swarm: a periodic announce here.
  if (event.empty() || event == "periodic" || event == "paused") in.event = Event::periodic;
  else if (event == "started") in.event = Event::started;
  else if (event == "completed") in.event = Event::completed;
  else if (event == "stopped") in.event = Event::stopped;
  else refuse(fmt::format("announce: event must be started, completed, stopped or empty, got {:?}",
                          std::string(event.substr(0, 32))));
  in.left = uint_param(ep, "left", required_param(query, ep, "left"), UINT64_MAX);
  if (auto v = query.get("uploaded")) uint_param(ep, "uploaded", *v, UINT64_MAX);
  if (auto v = query.get("downloaded")) uint_param(ep, "downloaded", *v, UINT64_MAX);
  in.numwant = limits::kDefaultNumwant;
  if (auto v = query.get("numwant"))
    in.numwant = static_cast<int>(std::min<std::uint64_t>(uint_param(ep, "numwant", *v, UINT32_MAX), limits::kMaxNumwant));
  for (std::string_view name : {"key", "trackerid"})
    if (auto v = query.get(name); v && v->size() > kMaxOpaqueBytes)
      refuse(fmt::format("announce: {} is {} bytes, more than {}", name, v->size(), kMaxOpaqueBytes));
  // The peer is where the request came from. Another address in ip= would let anyone
  // point a swarm at a third party (a flood aimed at a victim): refused, not obeyed.
  if (auto v = query.get("ip"); v && *v != remote_ip)
    refuse(fmt::format("announce: ip={:?} differs from the address the request came from; this tracker uses the "
                       "latter",
                       std::string(v->substr(0, 64))));
  in.ip = remote_ip;

  AnnounceReply reply = co_await swarms_.announce(in, now);
  switch (reply.result.status) {
    case AnnounceStatus::ok: break;
    case AnnounceStatus::too_many_swarms:
      throw BtRefusal{503, fmt::format("announce: tracker is full ({} swarms); try later", limits::kMaxSwarms)};
    case AnnounceStatus::swarm_full:
      throw BtRefusal{503, fmt::format("announce: swarm is full ({} peers)", limits::kMaxPeersPerSwarm)};
    case AnnounceStatus::too_many_peers:
      throw BtRefusal{503, fmt::format("announce: tracker is full ({} peers); try later", limits::kMaxPeersTotal)};
  }
  std::string v4, v6;
  compact_peers(reply.peers, v4, v6);
  // Keys in sorted order, as bencoding requires.
  out.content_type = kBencodeType;
  std::string& b = out.body;
  b = "d";
  bencode::put_str(b, "complete");
  bencode::put_int(b, static_cast<std::int64_t>(reply.result.seeders));
  bencode::put_str(b, "incomplete");
  bencode::put_int(b, static_cast<std::int64_t>(reply.result.leechers));
  bencode::put_str(b, "interval");
  bencode::put_int(b, interval_);
  bencode::put_str(b, "min interval");
  bencode::put_int(b, std::max(1, interval_ / 2));
  bencode::put_str(b, "peers");
  bencode::put_str(b, v4);
  if (!v6.empty()) {
    bencode::put_str(b, "peers6");
    bencode::put_str(b, v6);
  }
  b += 'e';
}

Task<void> BtAnnounce::scrape(const Query& query, net::HttpResponse& out) {
  std::size_t n = query.count("info_hash");
  if (n == 0) refuse("scrape: give at least one info_hash (this tracker offers no full scrape)");
  if (n > limits::kMaxScrapeHashes)
    refuse(fmt::format("scrape: at most {} info_hash parameters per request, got {}", limits::kMaxScrapeHashes, n));
  std::vector<BtHash> hashes;
  std::vector<Digest> keys;
  query.for_each("info_hash", [&](std::string_view raw) {
    BtHash h = parse_bt_hash("scrape", raw);
    if (!policy_.allows(h)) return;  // a whitelisted tracker does not say what else it has seen
    hashes.push_back(h);
    keys.push_back(bt_swarm_key(h));
  });
  std::vector<SwarmCounts> counts = co_await swarms_.counts(keys);
  std::map<std::string, std::size_t> sorted;  // bencoded dict keys must be sorted and unique
  for (std::size_t i = 0; i < hashes.size(); ++i)
    sorted.emplace(std::string(reinterpret_cast<const char*>(hashes[i].data()), hashes[i].size()), i);
  out.content_type = kBencodeType;
  std::string& b = out.body;
  b = "d";
  bencode::put_str(b, "files");
  b += 'd';
  for (const auto& [raw, i] : sorted) {
    const SwarmCounts& c = counts.at(i);
    bencode::put_str(b, raw);
    b += 'd';
    bencode::put_str(b, "complete");
    bencode::put_int(b, static_cast<std::int64_t>(c.seeders));
    bencode::put_str(b, "downloaded");
    bencode::put_int(b, static_cast<std::int64_t>(c.completed));
    bencode::put_str(b, "incomplete");
    bencode::put_int(b, static_cast<std::int64_t>(c.leechers));
    b += 'e';
  }
  b += "ee";
}

Task<void> BtAnnounce::swarms_json(net::HttpResponse& out) {
  BtHash zero{};
  Digest tagged = bt_swarm_key(zero);
  std::span<const std::uint8_t> tag(tagged.data() + zero.size(), tagged.size() - zero.size());
  std::vector<Digest> keys = co_await swarms_.swarms_with_suffix(tag, kMaxListed);
  std::vector<SwarmCounts> counts = co_await swarms_.counts(keys);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto hash = bt_hash_of_key(keys[i]);
    if (!hash) continue;
    const SwarmCounts& c = counts.at(i);
    list.push_back({{"info_hash", to_hex(*hash)}, {"seeders", c.seeders}, {"leechers", c.leechers},
                    {"completed", c.completed}});
  }
  const char* mode = policy_.mode() == BtPolicy::Mode::whitelist ? "whitelist" : "open";
  out.body = nlohmann::json{{"mode", mode}, {"swarms", std::move(list)}, {"truncated", keys.size() >= kMaxListed}}.dump();
}

}  // namespace p2p::tracker
