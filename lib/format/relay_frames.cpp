// Relay hello / ready / refusal frames: encoding, and strict decoding of what a
// peer sent (bounded JSON, every field checked; unknown fields ignored).
#include "format/relay_frames.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/hex.hpp"
#include "format/bounded_json.hpp"
#include "format/json_text.hpp"

namespace p2p::relay {

namespace {

using json = nlohmann::json;

// A hello has three fields; a few more are room to grow, hundreds are an attack.
constexpr JsonBounds kBounds{64, 3};
// A refusal's message stays one short line, so an answer always fits its limit.
constexpr std::size_t kMaxMessageBytes = 200;

std::string frame(const json& header) {
  std::string body = json_text(header);
  auto n = static_cast<std::uint32_t>(body.size());
  std::string out(kPrefixBytes, '\0');
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  return out + body;
}

// The header as a JSON object with a string "type"; nullopt and `problem` otherwise.
std::optional<json> parse_object(std::string_view text, std::string& problem) {
  json j;
  BoundedJsonProblem why = BoundedJsonProblem::none;
  if (!parse_bounded_json(text, kBounds, j, why)) {
    problem = why == BoundedJsonProblem::malformed ? "the header is not JSON" : "the header has too many or too deep values";
    return std::nullopt;
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    problem = "the header is not a JSON object with a string \"type\"";
    return std::nullopt;
  }
  return j;
}

}  // namespace

std::string_view role_name(Role role) { return role == Role::dialler ? "dialler" : "acceptor"; }

std::optional<std::uint32_t> decode_length(std::span<const std::uint8_t, kPrefixBytes> p, std::uint32_t max) {
  std::uint32_t n = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  if (n == 0 || n > max) return std::nullopt;
  return n;
}

std::string encode_hello(const Hello& hello) {
  return frame(json{{"type", "relay_hello"}, {"ticket", hello.ticket}, {"role", role_name(hello.role)}});
}

std::string encode_ready() { return frame(json{{"type", "relay_ready"}}); }

std::string encode_refusal(std::string_view why) {
  std::string message(why.substr(0, kMaxMessageBytes));
  return frame(json{{"type", "error"}, {"code", kRefusedCode}, {"message", message}});
}

std::optional<Hello> decode_hello(std::string_view text, std::string& problem) {
  auto j = parse_object(text, problem);
  if (!j) return std::nullopt;
  const json& h = *j;
  if (h["type"] != "relay_hello") {
    problem = fmt::format("expected a relay_hello frame, got type {:?}", h["type"].get<std::string>().substr(0, 40));
    return std::nullopt;
  }
  Hello out;
  auto ticket = h.find("ticket");
  // Tickets are issued in lowercase; one spelling means one lookup key.
  if (ticket == h.end() || !ticket->is_string() || !is_hex(ticket->get<std::string>(), kTicketHexDigits, true)) {
    problem = "\"ticket\" must be 64 lowercase hex digits";
    return std::nullopt;
  }
  out.ticket = ticket->get<std::string>();
  auto role = h.find("role");
  if (role != h.end() && *role == "dialler") out.role = Role::dialler;
  else if (role != h.end() && *role == "acceptor") out.role = Role::acceptor;
  else {
    problem = "\"role\" must be \"dialler\" or \"acceptor\"";
    return std::nullopt;
  }
  return out;
}

std::optional<Answer> decode_answer(std::string_view text, std::string& problem) {
  auto j = parse_object(text, problem);
  if (!j) return std::nullopt;
  const json& h = *j;
  if (h["type"] == "relay_ready") return Answer{true, {}};
  if (h["type"] == "error") {
    auto message = h.find("message");
    Answer a;
    a.refusal = message != h.end() && message->is_string() ? message->get<std::string>() : "no reason given";
    return a;
  }
  problem = "expected relay_ready or error from the relay";
  return std::nullopt;
}

}  // namespace p2p::relay
