// Tracker endpoints: announce, scrape, files, lookup, publish, meta, stats,
// metrics and the dashboard. Input is validated field by field and every
// refusal names the endpoint and the offending parameter.
#include "tracker/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tracker/dashboard.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

using nlohmann::json;

namespace {

constexpr std::string_view kGet = "GET";
constexpr std::string_view kPost = "POST";

// Client-supplied text may be any bytes; never let JSON encoding throw on it.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Signals a 4xx/5xx from deep inside a handler; caught in Api::handle.
struct HttpError {
  int status;
  std::string message;
};

[[noreturn]] void refuse(int status, std::string message) { throw HttpError{status, std::move(message)}; }

std::uint64_t parse_uint(std::string_view endpoint, std::string_view name, std::string_view text, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > max)
    refuse(400, fmt::format("{}: {} must be an integer in 0-{}, got {:?}", endpoint, name, max,
                            std::string(text.substr(0, 32))));
  return v;
}

Digest parse_hash(std::string_view endpoint, std::string_view name, std::string_view text) {
  Digest d{};
  if (!digest_from_hex(text, d))
    refuse(400, fmt::format("{}: {} must be 64 hex digits (SHA-256), got {} characters", endpoint, name, text.size()));
  return d;
}

std::string_view required(const Query& q, std::string_view endpoint, std::string_view name) {
  auto v = q.get(name);
  if (!v) refuse(400, fmt::format("{}: missing parameter {}", endpoint, name));
  return *v;
}

json file_json(const FileRecord& r, const Swarm* swarm, std::uint64_t completed) {
  return json{{"name", r.name},
              {"size", r.size},
              {"piece_size", r.piece_size},
              {"info_hash", to_hex(r.info_hash)},
              {"seeders", swarm ? swarm->seeders() : 0},
              {"leechers", swarm ? swarm->leechers() : 0},
              {"completed", completed},
              {"published", r.published}};
}

}  // namespace

std::string_view status_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

void error_response(Response& out, int status, std::string_view message) {
  out.status = status;
  out.content_type = kJsonType;
  out.body = dump(json{{"error", message}});
}

Api::Api(SwarmRegistry& swarms, Catalog& catalog, Metrics& metrics, ApiOptions options)
    : swarms_(swarms), catalog_(catalog), metrics_(metrics), options_(options), started_(Clock::now()) {
  selected_.reserve(limits::kMaxNumwant);
}

void Api::handle(const Request& request, Clock::time_point now, Response& out) {
  out.reset();
  try {
    route(request, now, out);
  } catch (const HttpError& e) {
    error_response(out, e.status, e.message);
  } catch (const std::exception& e) {
    // A bug or an exhausted resource: answer, keep serving, and say what failed.
    error_response(out, 500, fmt::format("internal error in {}: {}", endpoint_name(out.endpoint), e.what()));
  }
  metrics_.count_request(out.endpoint, out.status);
  if (out.endpoint == Endpoint::announce) metrics_.observe_announce(Clock::now() - now);
}

void Api::route(const Request& request, Clock::time_point now, Response& out) {
  // Plain variables, not a structured binding: clang < 16 cannot capture those in lambdas.
  const auto target_parts = split_target(request.target);
  const std::string_view path = target_parts.first, raw_query = target_parts.second;
  auto allow_only = [&](Endpoint e, std::string_view method) {
    out.endpoint = e;
    if (request.method != method) {
      out.allow = method;
      refuse(405, fmt::format("{} {}: method not allowed (use {})", std::string(request.method), std::string(path),
                              method));
    }
  };
  if (path == "/announce") allow_only(Endpoint::announce, kGet);
  else if (path == "/scrape") allow_only(Endpoint::scrape, kGet);
  else if (path == "/files") allow_only(Endpoint::files, kGet);
  else if (path == "/lookup") allow_only(Endpoint::lookup, kGet);
  else if (path == "/publish") allow_only(Endpoint::publish, kPost);
  else if (path.starts_with("/meta/")) allow_only(Endpoint::meta, kGet);
  else if (path == "/stats") allow_only(Endpoint::stats, kGet);
  else if (path == "/metrics") allow_only(Endpoint::metrics, kGet);
  else if (path == "/" || path == "/index.html") allow_only(Endpoint::dashboard, kGet);
  else refuse(404, fmt::format("no such endpoint: {} {:?}", std::string(request.method),
                               std::string(path.substr(0, 200))));

  if (!query_.parse(raw_query)) refuse(400, fmt::format("{}: {}", endpoint_name(out.endpoint), query_.error()));
  switch (out.endpoint) {
    case Endpoint::announce: return announce(request, now, out);
    case Endpoint::scrape: return scrape(out);
    case Endpoint::files: return files(out);
    case Endpoint::lookup: return lookup(out);
    case Endpoint::publish: return publish(request, out);
    case Endpoint::meta: return meta(path.substr(6), out);
    case Endpoint::stats: return stats(out);
    case Endpoint::metrics:
      out.content_type = "text/plain; version=0.0.4; charset=utf-8";
      out.body = metrics_.render(gauges());
      return;
    case Endpoint::dashboard:
      out.content_type = "text/html; charset=utf-8";
      out.body = dashboard_html();
      return;
    default: return;
  }
}

// --- announce (the hot path: no JSON library, no SQLite, no allocation for plain values) ---

void Api::announce(const Request& request, Clock::time_point now, Response& out) {
  constexpr std::string_view ep = "announce";
  AnnounceInput in;
  in.info_hash = parse_hash(ep, "info_hash", required(query_, ep, "info_hash"));
  std::string_view peer_id = required(query_, ep, "peer_id");
  if (!peer_id_from_hex(peer_id, in.peer_id))
    refuse(400, fmt::format("announce: peer_id must be 40 hex digits, got {} characters", peer_id.size()));
  in.port = static_cast<std::uint16_t>(parse_uint(ep, "port", required(query_, ep, "port"), 65535));
  if (in.port == 0) refuse(400, "announce: port must be in 1-65535, got 0");
  std::string_view event = query_.get("event").value_or("");
  if (event.empty() || event == "periodic") in.event = Event::periodic;
  else if (event == "started") in.event = Event::started;
  else if (event == "completed") in.event = Event::completed;
  else if (event == "stopped") in.event = Event::stopped;
  else refuse(400, fmt::format("announce: event must be started, completed, stopped or periodic, got {:?}",
                               std::string(event.substr(0, 32))));
  in.left = parse_uint(ep, "left", required(query_, ep, "left"), UINT64_MAX);
  if (auto v = query_.get("uploaded")) parse_uint(ep, "uploaded", *v, UINT64_MAX);
  if (auto v = query_.get("downloaded")) parse_uint(ep, "downloaded", *v, UINT64_MAX);
  in.numwant = limits::kDefaultNumwant;
  if (auto v = query_.get("numwant"))
    in.numwant = static_cast<int>(std::min<std::uint64_t>(parse_uint(ep, "numwant", *v, UINT32_MAX), limits::kMaxNumwant));
  in.ip = request.remote_ip;

  AnnounceResult r = swarms_.announce(in, now, selected_);
  switch (r.status) {
    case AnnounceStatus::ok: break;
    case AnnounceStatus::too_many_swarms:
      refuse(503, fmt::format("announce: tracker is full ({} swarms); try later", limits::kMaxSwarms));
    case AnnounceStatus::swarm_full:
      refuse(503, fmt::format("announce: swarm {} is full ({} peers)", to_hex(in.info_hash), limits::kMaxPeersPerSwarm));
    case AnnounceStatus::too_many_peers:
      refuse(503, fmt::format("announce: tracker is full ({} peers); try later", limits::kMaxPeersTotal));
  }
  if (r.completed_now) catalog_.note_completed(in.info_hash);

  auto o = std::back_inserter(out.body);
  fmt::format_to(o, "{{\"interval\":{},\"peers\":[", options_.interval_seconds);
  bool first = true;
  for (const Peer* p : selected_) {
    fmt::format_to(o, "{}{{\"ip\":\"{}\",\"port\":{}}}", first ? "" : ",", p->ip, p->port);
    first = false;
  }
  fmt::format_to(o, "],\"seeders\":{},\"leechers\":{}}}", r.seeders, r.leechers);
}

std::uint64_t Api::completed_of(const Digest& info_hash, const Swarm* swarm) const {
  if (const FileRecord* r = catalog_.find(info_hash)) return r->completed;
  return swarm ? swarm->completed() : 0;
}

void Api::scrape(Response& out) {
  std::size_t n = query_.count("info_hash");
  if (n == 0) refuse(400, "scrape: give at least one info_hash (for every file use /files)");
  if (n > limits::kMaxScrapeHashes)
    refuse(400, fmt::format("scrape: at most {} info_hash parameters per request, got {}", limits::kMaxScrapeHashes, n));
  json files = json::object();
  query_.for_each("info_hash", [&](std::string_view hex) {
    Digest d = parse_hash("scrape", "info_hash", hex);
    const Swarm* s = swarms_.find(d);
    files[to_hex(d)] = json{{"seeders", s ? s->seeders() : 0},
                            {"leechers", s ? s->leechers() : 0},
                            {"completed", completed_of(d, s)}};
  });
  out.body = dump(json{{"files", std::move(files)}});
}

void Api::files(Response& out) {
  std::string_view q = query_.get("q").value_or("");
  if (q.size() > limits::kMaxQueryBytes)
    refuse(400, fmt::format("files: q is longer than {} bytes", limits::kMaxQueryBytes));
  std::size_t limit = limits::kMaxFilesListed;
  if (auto v = query_.get("limit")) limit = parse_uint("files", "limit", *v, limits::kMaxFilesListed);
  auto records = catalog_.list(q, limit + 1);  // one more tells whether the list was cut
  bool truncated = records.size() > limit;
  if (truncated) records.pop_back();
  json list = json::array();
  for (const FileRecord* r : records) {
    const Swarm* s = swarms_.find(r->info_hash);
    list.push_back(file_json(*r, s, r->completed));
  }
  out.body = dump(json{{"files", std::move(list)}, {"count", records.size()}, {"truncated", truncated}});
}

void Api::lookup(Response& out) {
  auto name = query_.get("name");
  if (!name) name = query_.get("file_name");  // the seed projects' trackers used file_name
  auto hash = query_.get("info_hash");
  if (name.has_value() == hash.has_value())
    refuse(400, "lookup: give exactly one of name (or file_name) and info_hash");
  const FileRecord* r = nullptr;
  if (name) {
    if (name->empty() || name->size() > limits::kMaxQueryBytes)
      refuse(400, fmt::format("lookup: name must be 1-{} bytes", limits::kMaxQueryBytes));
    r = catalog_.find_by_name(*name);
    if (!r) refuse(404, fmt::format("lookup: no published file named {:?}", std::string(*name)));
  } else {
    Digest d = parse_hash("lookup", "info_hash", *hash);
    r = catalog_.find(d);
    if (!r) refuse(404, fmt::format("lookup: no published file with info_hash {}", to_hex(d)));
  }
  const Swarm* s = swarms_.find(r->info_hash);
  json peers = json::array();
  if (s) {
    auto list = s->peers();
    for (std::size_t i = 0; i < list.size() && i < static_cast<std::size_t>(limits::kMaxNumwant); ++i)
      peers.push_back(json{{"ip", list[i].ip}, {"port", list[i].port}, {"seeder", list[i].seeder}});
  }
  out.body = dump(json{{"file", file_json(*r, s, r->completed)}, {"peers", std::move(peers)}});
}

void Api::publish(const Request& request, Response& out) {
  if (request.body.empty()) refuse(400, "publish: empty body; POST the .p2pmeta JSON");
  if (request.body.size() > limits::kMaxPublishBytes)
    refuse(413, fmt::format("publish: meta is {} bytes, more than the {} allowed", request.body.size(),
                            limits::kMaxPublishBytes));
  Catalog::PublishResult result;
  try {
    result = catalog_.publish(request.body);
  } catch (const Error& e) {
    if (e.code() == ExitCode::bad_meta) refuse(400, e.what());
    if (e.code() == ExitCode::tracker) refuse(503, fmt::format("publish: {}", e.what()));
    refuse(500, fmt::format("publish: {}", e.what()));
  }
  out.status = result.created ? 201 : 200;
  out.body = dump(json{{"created", result.created},
                       {"info_hash", to_hex(result.record->info_hash)},
                       {"name", result.record->name}});
}

void Api::meta(std::string_view hash_hex, Response& out) {
  Digest d = parse_hash("meta", "the path /meta/<info_hash>", hash_hex);
  auto text = catalog_.meta_json(d);
  if (!text) refuse(404, fmt::format("meta: no published file with info_hash {}", to_hex(d)));
  out.body = std::move(*text);
}

Gauges Api::gauges() const {
  Gauges g;
  g.swarms = swarms_.swarm_count();
  g.peers = swarms_.peer_count();
  g.seeders = swarms_.seeder_count();
  g.files = catalog_.size();
  g.connections = open_connections_ ? *open_connections_ : 0;
  g.expired_peers = expired_total_;
  return g;
}

void Api::stats(Response& out) {
  Gauges g = gauges();
  out.body = dump(json{{"swarms", g.swarms},
                       {"peers", g.peers},
                       {"seeders", g.seeders},
                       {"leechers", g.peers - g.seeders},
                       {"files", g.files},
                       {"connections", g.connections},
                       {"requests", metrics_.requests_total()},
                       {"expired_peers", g.expired_peers},
                       {"interval", options_.interval_seconds},
                       {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count()}});
}

std::size_t Api::expire(Clock::time_point now) {
  auto cutoff = now - std::chrono::seconds(options_.interval_seconds) * limits::kExpiryIntervals;
  std::size_t n = swarms_.expire(cutoff);
  expired_total_ += n;
  return n;
}

}  // namespace p2p::tracker
