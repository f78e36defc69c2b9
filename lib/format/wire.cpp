// Wire codec: JSON headers behind a 4-byte big-endian length, raw payload after.
#include "format/wire.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/hex.hpp"
#include "base/limits.hpp"

namespace p2p::wire {

using nlohmann::json;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang < 17 has no CTAD for aggregates

[[noreturn]] void fail(std::string_view what) { throw ProtocolError(std::string(what)); }

std::uint32_t u32(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > UINT32_MAX)
    fail(fmt::format("field \"{}\" must be an integer in 0..{}", key, UINT32_MAX));
  return static_cast<std::uint32_t>(it->get<std::uint64_t>());
}

std::string str(const json& j, const char* key, std::size_t max_len) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) fail(fmt::format("field \"{}\" must be a string", key));
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) fail(fmt::format("field \"{}\" is longer than {} bytes", key, max_len));
  return s;
}

json address_json(const PeerAddress& a) { return json{{"ip", a.host}, {"port", a.port}}; }

std::vector<PeerAddress> address_list(const json& j, const char* key) {
  std::vector<PeerAddress> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) fail(fmt::format("field \"{}\" must be an array", key));
  if (it->size() > limits::kMaxPexPeersPerMessage)
    fail(fmt::format("\"{}\" lists {} peers; at most {} allowed", key, it->size(), limits::kMaxPexPeersPerMessage));
  for (const auto& e : *it) {
    if (!e.is_object()) fail(fmt::format("entries of \"{}\" must be objects", key));
    PeerAddress a;
    a.host = str(e, "ip", 45);
    for (char c : a.host)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':'))
        fail(fmt::format("\"{}\" holds a non-numeric address", key));
    std::uint32_t port = u32(e, "port");
    if (port == 0 || port > 65535) fail(fmt::format("\"{}\" holds port {}", key, port));
    a.port = static_cast<std::uint16_t>(port);
    out.push_back(std::move(a));
  }
  return out;
}

// A non-empty array of at most kMaxHavesPerFrame piece indexes (checked against the
// file's piece count by whoever knows it).
std::vector<std::uint32_t> piece_list(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) fail(fmt::format("field \"{}\" must be an array", key));
  if (it->empty() || it->size() > limits::kMaxHavesPerFrame)
    fail(fmt::format("\"{}\" lists {} pieces; 1..{} allowed", key, it->size(), limits::kMaxHavesPerFrame));
  std::vector<std::uint32_t> out;
  out.reserve(it->size());
  for (const auto& e : *it) {
    if (!e.is_number_unsigned() || e.get<std::uint64_t>() > UINT32_MAX)
      fail(fmt::format("entries of \"{}\" must be integers in 0..{}", key, UINT32_MAX));
    out.push_back(static_cast<std::uint32_t>(e.get<std::uint64_t>()));
  }
  return out;
}

std::uint32_t payload_limit(const Message& m) {
  if (std::holds_alternative<Piece>(m)) return limits::kMaxBlockSize;
  if (std::holds_alternative<BitfieldMsg>(m)) return static_cast<std::uint32_t>(limits::kMaxPieces / 8);
  return 0;
}

}  // namespace

std::string_view type_name(const Message& m) {
  return std::visit(
      Overloaded{[](const Handshake&) { return "handshake"; }, [](const BitfieldMsg&) { return "bitfield"; },
                 [](const Have&) { return "have"; }, [](const Haves&) { return "haves"; },
                 [](const Request&) { return "request"; },
                 [](const Cancel&) { return "cancel"; }, [](const Piece&) { return "piece"; },
                 [](const Choke&) { return "choke"; }, [](const Unchoke&) { return "unchoke"; },
                 [](const Interested&) { return "interested"; },
                 [](const NotInterested&) { return "not_interested"; },
                 [](const KeepAlive&) { return "keepalive"; }, [](const ErrorMsg&) { return "error"; },
                 [](const Pex&) { return "pex"; }},
      m);
}

namespace {
constexpr std::pair<ErrorCode, std::string_view> kErrorCodes[] = {
    {ErrorCode::version_mismatch, "version_mismatch"},   {ErrorCode::unknown_info_hash, "unknown_info_hash"},
    {ErrorCode::info_hash_mismatch, "info_hash_mismatch"}, {ErrorCode::self_connection, "self_connection"},
    {ErrorCode::banned, "banned"},                       {ErrorCode::too_many_connections, "too_many_connections"},
    {ErrorCode::protocol_error, "protocol_error"},       {ErrorCode::encryption_required, "encryption_required"},
    {ErrorCode::seeding_too, "seeding_too"},
};
}  // namespace

std::string_view error_code_name(ErrorCode code) {
  for (const auto& [c, name] : kErrorCodes)
    if (c == code) return name;
  return "unknown";
}

ErrorCode parse_error_code(std::string_view name) {
  for (const auto& [c, n] : kErrorCodes)
    if (n == name) return c;
  return ErrorCode::unknown;
}

std::string encode(const Message& message, std::uint32_t payload_len) {
  json j = std::visit(
      Overloaded{
          [](const Handshake& h) {
            json j{{"protocol", kProtocolName}, {"version", h.version}, {"info_hash", to_hex(h.info_hash)},
                   {"peer_id", h.peer_id},       {"listen_port", h.listen_port}};
            if (h.seed) j["seed"] = true;
            if (h.max_requests) j["max_requests"] = h.max_requests;
            if (h.haves) j["haves"] = true;
            return j;
          },
          [](const Have& h) { return json{{"piece", h.piece}}; },
          [](const Haves& h) { return json{{"pieces", h.pieces}}; },
          [](const Request& r) { return json{{"piece", r.piece}, {"begin", r.begin}, {"length", r.length}}; },
          [](const Cancel& r) { return json{{"piece", r.piece}, {"begin", r.begin}, {"length", r.length}}; },
          [](const Piece& p) { return json{{"piece", p.piece}, {"begin", p.begin}}; },
          [](const ErrorMsg& e) { return json{{"code", e.code}, {"message", e.message}}; },
          [](const Pex& p) {
            json added = json::array(), dropped = json::array();
            for (const auto& a : p.added) added.push_back(address_json(a));
            for (const auto& a : p.dropped) dropped.push_back(address_json(a));
            return json{{"added", std::move(added)}, {"dropped", std::move(dropped)}};
          },
          [](const auto&) { return json::object(); }},
      message);
  j["type"] = type_name(message);
  if (payload_len) j["len"] = payload_len;
  std::string body = j.dump();
  std::string out(kPrefixBytes, '\0');
  auto n = static_cast<std::uint32_t>(body.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  out += body;
  return out;
}

std::uint32_t decode_header_length(std::span<const std::uint8_t, kPrefixBytes> p) {
  std::uint32_t n = std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
  if (n == 0) fail("empty frame header");
  if (n > limits::kMaxHeaderBytes)
    fail(fmt::format("frame header of {} bytes exceeds the {} byte limit", n, limits::kMaxHeaderBytes));
  return n;
}

Header decode_header(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) fail("frame header is not valid JSON");
  if (!j.is_object()) fail("frame header is not a JSON object");
  std::string type = str(j, "type", 32);

  Header h{KeepAlive{}, 0};
  if (type == "handshake") {
    Handshake hs;
    if (str(j, "protocol", 32) != kProtocolName) fail("handshake is not for the p2p-share protocol");
    hs.version = static_cast<int>(std::min<std::uint32_t>(u32(j, "version"), 1u << 30));
    if (!digest_from_hex(str(j, "info_hash", 64), hs.info_hash)) fail("handshake info_hash is not 64 hex digits");
    hs.peer_id = str(j, "peer_id", 40);
    if (!is_hex(hs.peer_id, 40, /*lowercase_only=*/true)) fail("handshake peer_id is not 40 lowercase hex digits");
    std::uint32_t port = u32(j, "listen_port");
    if (port > 65535) fail("handshake listen_port is above 65535");
    hs.listen_port = static_cast<std::uint16_t>(port);
    if (auto it = j.find("seed"); it != j.end()) {
      if (!it->is_boolean()) fail("handshake seed is not true or false");
      hs.seed = it->get<bool>();
    }
    if (j.contains("max_requests")) {
      hs.max_requests = u32(j, "max_requests");
      if (hs.max_requests == 0 || hs.max_requests > 1u << 20) fail("handshake max_requests is not in 1..1048576");
    }
    if (auto it = j.find("haves"); it != j.end()) {
      if (!it->is_boolean()) fail("handshake haves is not true or false");
      hs.haves = it->get<bool>();
    }
    h.message = std::move(hs);
  } else if (type == "bitfield") {
    h.message = BitfieldMsg{};
  } else if (type == "have") {
    h.message = Have{u32(j, "piece")};
  } else if (type == "haves") {
    h.message = Haves{piece_list(j, "pieces")};
  } else if (type == "request") {
    h.message = Request{u32(j, "piece"), u32(j, "begin"), u32(j, "length")};
  } else if (type == "cancel") {
    h.message = Cancel{u32(j, "piece"), u32(j, "begin"), u32(j, "length")};
  } else if (type == "piece") {
    h.message = Piece{u32(j, "piece"), u32(j, "begin")};
  } else if (type == "choke") {
    h.message = Choke{};
  } else if (type == "unchoke") {
    h.message = Unchoke{};
  } else if (type == "interested") {
    h.message = Interested{};
  } else if (type == "not_interested") {
    h.message = NotInterested{};
  } else if (type == "keepalive") {
    h.message = KeepAlive{};
  } else if (type == "error") {
    h.message = ErrorMsg{str(j, "code", 64), str(j, "message", 1024)};
  } else if (type == "pex") {
    h.message = Pex{address_list(j, "added"), address_list(j, "dropped")};
  } else {
    fail(fmt::format("unknown message type \"{}\"", type.substr(0, 32)));
  }

  if (j.contains("len")) h.payload_len = u32(j, "len");
  std::uint32_t limit = payload_limit(h.message);
  if (h.payload_len > limit)
    fail(fmt::format("{} payload of {} bytes exceeds the {} byte limit", type, h.payload_len, limit));
  if (std::holds_alternative<Piece>(h.message) && h.payload_len == 0) fail("piece message without payload");
  return h;
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<FrameDecoder::Frame> FrameDecoder::next() {
  if (!pending_) {
    if (buffered() < kPrefixBytes) return std::nullopt;
    std::uint32_t n = decode_header_length(std::span<const std::uint8_t, kPrefixBytes>(buf_.data() + pos_, kPrefixBytes));
    if (buffered() < kPrefixBytes + n) return std::nullopt;
    pending_ = decode_header(std::string_view(reinterpret_cast<const char*>(buf_.data() + pos_ + kPrefixBytes), n));
    pos_ += kPrefixBytes + n;
  }
  if (buffered() < pending_->payload_len) return std::nullopt;
  Frame f{std::move(pending_->message),
          std::vector<std::uint8_t>(buf_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                    buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + pending_->payload_len))};
  pos_ += pending_->payload_len;
  pending_.reset();
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return f;
}

}  // namespace p2p::wire
