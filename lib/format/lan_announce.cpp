// LAN announce codec: one compact JSON object per datagram, checked field by field.
#include "format/lan_announce.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "base/hex.hpp"
#include "format/bounded_json.hpp"

namespace p2p::lan {

using nlohmann::json;

std::string_view kind_name(Kind kind) { return kind == Kind::answer ? "answer" : "announce"; }

std::string_view refusal_name(Refusal r) {
  switch (r) {
    case Refusal::none: return "none";
    case Refusal::too_large: return "too_large";
    case Refusal::not_json: return "not_json";
    case Refusal::not_ours: return "not_ours";
    case Refusal::other_version: return "other_version";
    case Refusal::bad_field: return "bad_field";
  }
  return "bad_field";
}

std::string encode(const Announce& a) {
  if (a.swarms.empty() || a.swarms.size() > kMaxSwarmsPerDatagram)
    throw std::invalid_argument(fmt::format("LAN announce with {} swarms (1..{} allowed)", a.swarms.size(), kMaxSwarmsPerDatagram));
  if (a.port == 0) throw std::invalid_argument("LAN announce with TCP port 0");
  if (std::set<Digest>(a.swarms.begin(), a.swarms.end()).size() != a.swarms.size())
    throw std::invalid_argument("LAN announce lists a swarm twice");
  json ids = json::array();
  for (const auto& id : a.swarms) ids.push_back(to_hex(id));
  json j{{"protocol", kProtocolName}, {"version", kVersion}, {"type", kind_name(a.kind)},
         {"node", to_hex(a.node)},    {"port", a.port},       {"swarms", std::move(ids)}};
  std::string out = j.dump();
  if (out.size() > kMaxDatagramBytes)  // cannot happen within kMaxSwarmsPerDatagram (tested)
    throw std::invalid_argument(fmt::format("LAN announce of {} bytes exceeds {}", out.size(), kMaxDatagramBytes));
  return out;
}

std::vector<std::string> encode_all(Kind kind, const NodeId& node, std::uint16_t port,
                                    const std::vector<Digest>& swarms, std::size_t max_datagrams) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < swarms.size() && out.size() < max_datagrams; i += kMaxSwarmsPerDatagram) {
    Announce a{kind, node, port, {}};
    std::size_t end = std::min(swarms.size(), i + kMaxSwarmsPerDatagram);
    a.swarms.assign(swarms.begin() + static_cast<std::ptrdiff_t>(i), swarms.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(encode(a));
  }
  return out;
}

namespace {

// A string field of exactly `digits` lowercase hex digits, into `out`.
bool hex_field(const json& j, const char* key, std::span<std::uint8_t> out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  return is_hex(s, out.size() * 2, /*lowercase_only=*/true) && from_hex(s, out);
}

}  // namespace

std::optional<Announce> decode(std::string_view datagram, Refusal& why, std::string& detail) {
  auto refuse = [&](Refusal r, std::string text) -> std::optional<Announce> {
    why = r;
    detail = std::move(text);
    return std::nullopt;
  };
  why = Refusal::none;
  detail.clear();
  if (datagram.size() > kMaxDatagramBytes)
    return refuse(Refusal::too_large, fmt::format("{} bytes (at most {})", datagram.size(), kMaxDatagramBytes));
  json j;
  BoundedJsonProblem problem{};
  if (!parse_bounded_json(datagram, JsonBounds{kMaxJsonValues, kMaxJsonDepth}, j, problem) || !j.is_object())
    return refuse(Refusal::not_json, "not a bounded JSON object");
  auto proto = j.find("protocol");
  if (proto == j.end() || !proto->is_string() || proto->get_ref<const std::string&>() != kProtocolName)
    return refuse(Refusal::not_ours, "\"protocol\" is not \"p2p-share-lan\"");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_unsigned())
    return refuse(Refusal::bad_field, "\"version\" must be an unsigned integer");
  if (version->get<std::uint64_t>() != static_cast<std::uint64_t>(kVersion))
    return refuse(Refusal::other_version, fmt::format("version {}", version->get<std::uint64_t>()));

  Announce a;
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return refuse(Refusal::bad_field, "\"type\" must be a string");
  if (type->get_ref<const std::string&>() == "announce") a.kind = Kind::announce;
  else if (type->get_ref<const std::string&>() == "answer") a.kind = Kind::answer;
  else return refuse(Refusal::bad_field, "\"type\" must be \"announce\" or \"answer\"");
  if (!hex_field(j, "node", a.node))
    return refuse(Refusal::bad_field, fmt::format("\"node\" must be {} lowercase hex digits", kNodeIdBytes * 2));
  auto port = j.find("port");
  if (port == j.end() || !port->is_number_unsigned() || port->get<std::uint64_t>() == 0 || port->get<std::uint64_t>() > 65535)
    return refuse(Refusal::bad_field, "\"port\" must be an integer in 1..65535");
  a.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  auto swarms = j.find("swarms");
  if (swarms == j.end() || !swarms->is_array()) return refuse(Refusal::bad_field, "\"swarms\" must be an array");
  if (swarms->empty() || swarms->size() > kMaxSwarmsPerDatagram)
    return refuse(Refusal::bad_field, fmt::format("\"swarms\" lists {} ids (1..{} allowed)", swarms->size(), kMaxSwarmsPerDatagram));
  std::set<Digest> seen;
  for (const auto& e : *swarms) {
    Digest id{};
    if (!e.is_string() || !is_hex(e.get_ref<const std::string&>(), 64, /*lowercase_only=*/true) ||
        !digest_from_hex(e.get_ref<const std::string&>(), id))
      return refuse(Refusal::bad_field, "\"swarms\" entries must be 64 lowercase hex digits");
    if (!seen.insert(id).second) return refuse(Refusal::bad_field, "\"swarms\" lists an id twice");
    a.swarms.push_back(id);
  }
  return a;
}

}  // namespace p2p::lan
