// Tracker client: one request per connection on a private io_context, run for
// at most the caller's timeout; the response is parsed with http_parser and
// its JSON checked field by field before anything is returned.
#include "tracker_client/tracker_client.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <random>

#include "base/address.hpp"
#include "base/error.hpp"
#include "net/http_client.hpp"
#include "net/http_exchange.hpp"
#include "net/use_tuple.hpp"
#include "base/hex.hpp"
#include "format/meta.hpp"
#include "format/tracker_protocol.hpp"

namespace p2p::tracker_client {

namespace limits = tracker_protocol;
using net::HttpAnswer;

using asio::ip::tcp;
using nlohmann::json;
using namespace asio::experimental::awaitable_operators;

namespace {


[[noreturn]] void fail(const std::string& tracker, std::string_view what) {
  throw Error(ExitCode::tracker, fmt::format("tracker {}: {}", tracker, what));
}

std::pair<std::string, std::string> split_host_port(const std::string& tracker) {
  std::string why;
  auto hp = parse_host_port(tracker, why);
  if (!hp) fail(tracker, why);
  return {hp->host, std::to_string(hp->port)};
}

// Turns the outcome of exchange() into an answer or a thrown Error.
HttpAnswer checked_answer(const std::string& tracker, std::string_view method, const std::string& target,
                          HttpAnswer answer, const std::string& error, const std::string& step, bool timed_out,
                          std::chrono::milliseconds timeout) {
  if (!error.empty()) fail(tracker, error);
  if (timed_out)
    fail(tracker, fmt::format("no answer within {} ms ({}) for {} {}", timeout.count(), step, method,
                              target.substr(0, target.find('?'))));
  if (answer.status < 200 || answer.status > 299) {
    // The tracker explains refusals in {"error": "..."}; show that, not raw bytes.
    json j = json::parse(answer.body, nullptr, false);
    std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : fmt::format("{} bytes of non-JSON", answer.body.size());
    fail(tracker, fmt::format("HTTP {} for {} {}: {}", answer.status, method, target.substr(0, target.find('?')), why));
  }
  return answer;
}

HttpAnswer http_exchange(const std::string& tracker, std::string_view method, const std::string& target,
                         std::string_view body, std::chrono::milliseconds timeout, std::string_view bearer = {}) {
  split_host_port(tracker);  // a bad address is named as the tracker's
  net::HttpCallFailure f;
  auto answer = net::http_call(tracker, method, target, body, bearer, timeout, limits::kMaxClientResponseBytes, f);
  return checked_answer(tracker, method, target, answer ? std::move(*answer) : HttpAnswer{}, f.error, f.step,
                        f.timed_out, timeout);
}

asio::awaitable<HttpAnswer> http_exchange_async(const std::string& tracker, std::string_view method,
                                                const std::string& target, std::string_view body,
                                                std::chrono::milliseconds timeout) {
  auto [host, port] = split_host_port(tracker);
  HttpAnswer answer;
  std::string error, step = "connecting";
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto result = co_await (net::http_exchange(host, port, net::http_request_text(tracker, method, target, body), answer,
                                             error, step, limits::kMaxClientResponseBytes) ||
                          deadline.async_wait(kUseTuple));
  co_return checked_answer(tracker, method, target, std::move(answer), error, step, result.index() == 1, timeout);
}

json parse_json_object(const std::string& tracker, std::string_view what, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(tracker, fmt::format("malformed answer to {}: not a JSON object", what));
  return j;
}

std::int64_t int_field(const std::string& tracker, const json& j, const char* key, std::int64_t lo, std::int64_t hi,
                       std::string_view what = "announce") {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi)
    fail(tracker, fmt::format("malformed answer to {}: \"{}\" must be an integer in {}-{}", what, key, lo, hi));
  return it->get<std::int64_t>();
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

const char* event_word(AnnounceEvent event) {
  switch (event) {
    case AnnounceEvent::none: return "";
    case AnnounceEvent::started: return "started";
    case AnnounceEvent::completed: return "completed";
    case AnnounceEvent::stopped: return "stopped";
  }
  return "";
}

std::chrono::milliseconds announce_timeout(AnnounceEvent event) {
  return event == AnnounceEvent::stopped ? kStoppedAnnounceTimeout : kTrackerTimeout;
}

std::chrono::seconds next_announce_after(int tracker_interval_seconds) {
  return std::clamp(std::chrono::seconds(tracker_interval_seconds), kMinAnnounceDelay, kMaxAnnounceDelay);
}

namespace {

std::string announce_target(const std::string& tracker, const AnnounceRequest& req) {
  if (!is_hex(req.peer_id, 40)) fail(tracker, "cannot announce: peer_id must be 40 hex digits");
  if (req.port == 0) fail(tracker, "cannot announce: port 0");
  int numwant = std::clamp(req.numwant, 0, limits::kMaxNumwant);
  std::string target = fmt::format("/announce?info_hash={}&peer_id={}&port={}&left={}&uploaded={}&downloaded={}&numwant={}",
                                   to_hex(req.info_hash), req.peer_id, req.port, req.left, req.uploaded,
                                   req.downloaded, numwant);
  if (req.event != AnnounceEvent::none) target += fmt::format("&event={}", event_word(req.event));
  return target;
}

AnnounceResponse parse_announce_answer(const std::string& tracker, const std::string& body) {
  json j = parse_json_object(tracker, "announce", body);

  AnnounceResponse r;
  r.interval = static_cast<int>(int_field(tracker, j, "interval", limits::kMinIntervalSeconds, limits::kMaxIntervalSeconds));
  r.seeders = static_cast<int>(int_field(tracker, j, "seeders", 0, INT32_MAX));
  r.leechers = static_cast<int>(int_field(tracker, j, "leechers", 0, INT32_MAX));
  if (auto w = j.find("withdrawn"); w != j.end()) {
    if (!w->is_boolean()) fail(tracker, "malformed answer to announce: \"withdrawn\" must be true or false");
    r.withdrawn = w->get<bool>();
  }
  auto peers = j.find("peers");
  if (peers == j.end() || !peers->is_array() || peers->size() > static_cast<std::size_t>(limits::kMaxNumwant))
    fail(tracker, fmt::format("malformed answer to announce: \"peers\" must be an array of at most {}", limits::kMaxNumwant));
  for (const json& p : *peers) {
    auto ip = p.is_object() ? p.find("ip") : p.end();
    auto port = p.is_object() ? p.find("port") : p.end();
    asio::error_code ec;
    if (ip == p.end() || !ip->is_string() || port == p.end() || !port->is_number_unsigned() ||
        port->get<std::uint64_t>() == 0 || port->get<std::uint64_t>() > 65535)
      fail(tracker, "malformed answer to announce: each peer needs \"ip\" (string) and \"port\" (1-65535)");
    auto addr = asio::ip::make_address(ip->get<std::string>(), ec);
    if (ec) fail(tracker, fmt::format("malformed answer to announce: peer ip {:?} is not a numeric address",
                                      ip->get<std::string>().substr(0, 64)));
    r.peers.push_back(wire::PeerAddress{addr.to_string(), static_cast<std::uint16_t>(port->get<std::uint64_t>())});
    if (auto told = p.find("rendezvous"); told != p.end() && told->is_boolean() && told->get<bool>())
      r.told.push_back(r.peers.back());
  }
  if (auto rv = j.find("rendezvous"); rv != j.end() && rv->is_boolean()) r.rendezvous = rv->get<bool>();
  if (j.contains("relay_port")) r.relay_port = static_cast<std::uint16_t>(int_field(tracker, j, "relay_port", 1, 65535));
  return r;
}

// A numeric address from an answer's field, or a failure naming it.
wire::PeerAddress address_field(const std::string& tracker, std::string_view what, const json& j) {
  auto ip = j.find("ip");
  auto port = j.find("port");
  asio::error_code ec;
  if (ip == j.end() || !ip->is_string() || port == j.end() || !port->is_number_unsigned() ||
      port->get<std::uint64_t>() == 0 || port->get<std::uint64_t>() > 65535)
    fail(tracker, fmt::format("malformed answer to {}: needs \"ip\" (string) and \"port\" (1-65535)", what));
  auto addr = asio::ip::make_address(ip->get<std::string>(), ec);
  if (ec) fail(tracker, fmt::format("malformed answer to {}: {:?} is not a numeric address", what,
                                    ip->get<std::string>().substr(0, 64)));
  return wire::PeerAddress{addr.to_string(), static_cast<std::uint16_t>(port->get<std::uint64_t>())};
}

std::string ticket_field(const std::string& tracker, std::string_view what, const json& j) {
  auto t = j.find("ticket");
  if (t == j.end() || !t->is_string() || !is_hex(t->get_ref<const std::string&>(), 64))
    fail(tracker, fmt::format("malformed answer to {}: \"ticket\" must be 64 hex digits", what));
  return t->get<std::string>();
}

// Notes in one poll answer: the tracker queues at most 32 per member.
constexpr std::size_t kMaxRendezvousNotes = 64;

RendezvousAnswer parse_rendezvous_answer(const std::string& tracker, const std::string& body) {
  json j = parse_json_object(tracker, "rendezvous", body);
  RendezvousAnswer r;
  r.seen_as = address_field(tracker, "rendezvous", j);
  if (auto reach = j.find("reachable"); reach != j.end() && reach->is_boolean()) r.reachable = reach->get<bool>();
  auto notes = j.find("notes");
  if (notes == j.end() || !notes->is_array() || notes->size() > kMaxRendezvousNotes)
    fail(tracker, fmt::format("malformed answer to rendezvous: \"notes\" must be an array of at most {}", kMaxRendezvousNotes));
  for (const json& n : *notes) {
    if (!n.is_object()) fail(tracker, "malformed answer to rendezvous: a note is not an object");
    RendezvousNote note;
    auto swarm = n.find("swarm");
    if (swarm == n.end() || !swarm->is_string() || !digest_from_hex(swarm->get_ref<const std::string&>(), note.swarm))
      fail(tracker, "malformed answer to rendezvous: \"swarm\" must be 64 hex digits");
    note.from = address_field(tracker, "rendezvous", n);
    if (auto relay = n.find("relay"); relay != n.end()) {
      if (!relay->is_object()) fail(tracker, "malformed answer to rendezvous: \"relay\" is not an object");
      note.relay_ticket = ticket_field(tracker, "rendezvous", *relay);
      note.relay_port = static_cast<std::uint16_t>(int_field(tracker, *relay, "port", 1, 65535, "rendezvous"));
    }
    r.notes.push_back(std::move(note));
  }
  return r;
}

}  // namespace

AnnounceResponse announce(const std::string& tracker, const AnnounceRequest& req, std::chrono::milliseconds timeout) {
  std::string target = announce_target(tracker, req);
  return parse_announce_answer(tracker, http_exchange(tracker, "GET", target, {}, timeout).body);
}

asio::awaitable<AnnounceResponse> announce_async(std::string tracker, AnnounceRequest req,
                                                 std::chrono::milliseconds timeout) {
  std::string target = announce_target(tracker, req);
  HttpAnswer a = co_await http_exchange_async(tracker, "GET", target, {}, timeout);
  co_return parse_announce_answer(tracker, a.body);
}

asio::awaitable<RendezvousAnswer> rendezvous_poll_async(std::string tracker, std::uint16_t port, bool reachability_known,
                                                        std::chrono::milliseconds timeout) {
  if (port == 0) fail(tracker, "cannot poll for rendezvous: port 0");
  std::string target = fmt::format("/rendezvous?port={}{}", port, reachability_known ? "" : "&reachable=unknown");
  HttpAnswer a = co_await http_exchange_async(tracker, "GET", target, {}, timeout);
  co_return parse_rendezvous_answer(tracker, a.body);
}

asio::awaitable<RelayOffer> request_relay_async(std::string tracker, Digest swarm, std::uint16_t port,
                                                wire::PeerAddress to, std::chrono::milliseconds timeout) {
  std::string target = fmt::format("/relay?swarm={}&port={}&to_ip={}&to_port={}", to_hex(swarm), port,
                                   url_encode(to.host), to.port);
  HttpAnswer a = co_await http_exchange_async(tracker, "GET", target, {}, timeout);
  json j = parse_json_object(tracker, "relay", a.body);
  RelayOffer offer;
  offer.ticket = ticket_field(tracker, "relay", j);
  offer.relay_port = static_cast<std::uint16_t>(int_field(tracker, j, "relay_port", 1, 65535, "relay"));
  co_return offer;
}

std::string fetch_meta_json(const std::string& tracker, const std::string& info_hash_hex,
                            std::chrono::milliseconds timeout) {
  if (!is_hex(info_hash_hex, 64)) fail(tracker, fmt::format("cannot fetch meta: {:?} is not 64 hex digits", info_hash_hex.substr(0, 80)));
  HttpAnswer a = http_exchange(tracker, "GET", "/meta/" + info_hash_hex, {}, timeout);
  if (a.body.empty()) fail(tracker, fmt::format("empty meta for {}", info_hash_hex));
  // The tracker serves metas as they were published, and takes none larger: the same constant.
  if (a.body.size() > limits::kMaxPublishBytes)
    fail(tracker, fmt::format("the meta of {} is {} bytes, more than the {} a published meta may be", info_hash_hex,
                              a.body.size(), limits::kMaxPublishBytes));
  return std::move(a.body);
}

std::string lookup_info_hash_by_name(const std::string& tracker, const std::string& name,
                                     std::chrono::milliseconds timeout) {
  if (name.empty() || name.size() > limits::kMaxQueryBytes) fail(tracker, "cannot look up: name must be 1-255 bytes");
  HttpAnswer a = http_exchange(tracker, "GET", "/lookup?name=" + url_encode(name), {}, timeout);
  json j = parse_json_object(tracker, "lookup", a.body);
  auto file = j.find("file");
  if (file == j.end() || !file->is_object()) fail(tracker, "malformed answer to lookup: no \"file\" object");
  auto hash = file->find("info_hash");
  auto got_name = file->find("name");
  if (hash == file->end() || !hash->is_string() || !is_hex(hash->get_ref<const std::string&>(), 64))
    fail(tracker, "malformed answer to lookup: \"info_hash\" must be 64 hex digits");
  if (got_name == file->end() || !got_name->is_string() || got_name->get_ref<const std::string&>() != name)
    fail(tracker, fmt::format("malformed answer to lookup: asked for {:?}, got another name", name));
  return hash->get<std::string>();
}

std::optional<std::string> publish_meta(const std::string& tracker, const std::string& meta_json,
                                        std::chrono::milliseconds timeout) {
  if (meta_json.size() > limits::kMaxPublishBytes)
    fail(tracker, fmt::format("cannot publish: meta is {} bytes, the tracker takes at most {}", meta_json.size(),
                              limits::kMaxPublishBytes));
  HttpAnswer a = http_exchange(tracker, "POST", "/publish", meta_json, timeout);
  json j = parse_json_object(tracker, "publish", a.body);
  auto token = j.find("owner_token");
  if (token == j.end()) return std::nullopt;  // published before (by us or another): its owner keeps it
  if (!token->is_string() || !is_hex(token->get_ref<const std::string&>(), 64))
    fail(tracker, "malformed answer to publish: \"owner_token\" must be 64 hex digits");
  return token->get<std::string>();
}

std::string list_files_json(const std::string& tracker, const std::string& substring, std::chrono::milliseconds timeout) {
  HttpAnswer a = http_exchange(tracker, "GET", "/files?q=" + url_encode(substring), {}, timeout);
  parse_json_object(tracker, "files", a.body);
  return std::move(a.body);
}

void withdraw(const std::string& tracker, const std::string& info_hash_hex, const std::string& owner_token,
              std::chrono::milliseconds timeout) {
  if (!is_hex(info_hash_hex, 64)) fail(tracker, "cannot withdraw: the info hash must be 64 hex digits");
  if (!is_hex(owner_token, 64)) fail(tracker, "cannot withdraw: the owner token must be 64 hex digits");
  http_exchange(tracker, "POST", "/withdraw?info_hash=" + info_hash_hex, {}, timeout, owner_token);
}

std::string random_peer_id() {
  std::random_device rd;
  std::array<std::uint8_t, 20> id{};
  for (auto& b : id) b = static_cast<std::uint8_t>(rd());
  return to_hex(id);
}

}  // namespace p2p::tracker_client
