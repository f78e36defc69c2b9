// Tracker endpoints: announce, scrape, files, lookup, publish, withdraw, meta,
// stats, metrics and the dashboard. Input is validated field by field and every
// refusal names the endpoint and the offending parameter. Handlers parse all
// they need before their first co_await: on a shared store other requests run
// while one waits, and they reuse query_.
#include "tracker/api.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <nlohmann/json.hpp>

#include "format/json_text.hpp"

#include "base/error.hpp"
#include "tracker/dashboard.hpp"
#include "tracker/owner_token.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

using net::HttpRequest;
using net::HttpResponse;
using nlohmann::json;

namespace {

constexpr std::string_view kGet = "GET";
constexpr std::string_view kPost = "POST";

// Signals a 4xx/5xx from deep inside a handler; caught in Api::serve.
struct HttpError {
  int status;
  std::string message;
};

[[noreturn]] void refuse(int status, std::string message) { throw HttpError{status, std::move(message)}; }


Digest parse_hash(std::string_view endpoint, std::string_view name, std::string_view text) {
  Digest d{};
  if (!digest_from_hex(text, d))
    refuse(400, fmt::format("{}: {} must be 64 hex digits (SHA-256), got {} characters", endpoint, name, text.size()));
  return d;
}


json file_json(const FileRecord& r, const SwarmCounts& counts) {
  return json{{"name", r.name},
              {"size", r.size},
              {"piece_size", r.piece_size},
              {"info_hash", to_hex(r.info_hash)},
              {"seeders", counts.seeders},
              {"leechers", counts.leechers},
              {"completed", r.completed},
              {"published", r.published}};
}

}  // namespace

Api::Api(SwarmStore& swarms, CatalogStore& catalog, CounterStore& counters, ApiOptions options)
    : swarms_(swarms), catalog_(catalog), counters_(counters), options_(options), started_(Clock::now()) {}

std::size_t Api::body_limit(std::string_view, std::string_view target) const {
  return split_target(target).first == "/publish" ? limits::kMaxPublishBytes : limits::kMaxOtherBodyBytes;
}

void Api::handle(const HttpRequest& request, HttpResponse& response, net::HttpDone done) {
  if (rendezvous_on_ && request.method == kGet && split_target(request.target).first == "/rendezvous")
    return rendezvous(request, response, done);
  start_detached(serve(request, Clock::now(), response), [done, &response](std::exception_ptr e) {
    if (e) net::error_response(response, 500, "internal error while answering");  // serve() itself failed
    done();
  });
}

void Api::on_event(net::HttpEvent event) {
  if (event == net::HttpEvent::connection_refused) ++pending_.connections_refused;
  if (event == net::HttpEvent::timeout) ++pending_.timeouts;
  if (event == net::HttpEvent::displaced) ++pending_.connections_displaced;
}

Task<void> Api::serve(const HttpRequest& request, Clock::time_point now, HttpResponse& out) {
  out.reset();
  Endpoint endpoint = Endpoint::other;
  try {
    co_await route(request, now, out, endpoint);
  } catch (const HttpError& e) {
    net::error_response(out, e.status, e.message);
  } catch (const QueryRefusal& e) {
    net::error_response(out, 400, e.message);
  } catch (const StoreUnavailable& e) {
    net::error_response(out, 503, e.what());
  } catch (const std::exception& e) {
    // A bug or an exhausted resource: answer, keep serving, and say what failed.
    net::error_response(out, 500, fmt::format("internal error in {}: {}", endpoint_name(endpoint), e.what()));
  }
  if (endpoint != Endpoint::bt_announce && endpoint != Endpoint::bt_scrape)  // bt_serve counts its own
    pending_.count_request(endpoint, out.status);
  if (endpoint == Endpoint::announce) pending_.observe_announce(Clock::now() - now);
}

// Not a coroutine: refusals are thrown before any frame exists, and the
// endpoint's own task is handed back to serve() to run.
Task<void> Api::route(const HttpRequest& request, Clock::time_point now, HttpResponse& out, Endpoint& endpoint) {
  // Plain variables, not a structured binding: clang < 16 cannot capture those in lambdas.
  const auto target_parts = split_target(request.target);
  const std::string_view path = target_parts.first, raw_query = target_parts.second;
  auto allow_only = [&](Endpoint e, std::string_view method) {
    endpoint = e;
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
  else if (path == "/withdraw") allow_only(Endpoint::withdraw, kPost);
  else if (path.starts_with("/meta/")) allow_only(Endpoint::meta, kGet);
  else if (path == "/stats") allow_only(Endpoint::stats, kGet);
  else if (path == "/metrics") allow_only(Endpoint::metrics, kGet);
  else if (path == "/" || path == "/index.html") allow_only(Endpoint::dashboard, kGet);
  else if (path == "/bittorrent") allow_only(Endpoint::bt_swarms, kGet);
  else if (path == "/relay" && rendezvous_on_) allow_only(Endpoint::relay, kGet);
  else if (path == "/rendezvous" && rendezvous_on_) allow_only(Endpoint::rendezvous, kGet);  // not GET: 405
  else refuse(404, fmt::format("no such endpoint: {} {:?}", std::string(request.method),
                               std::string(path.substr(0, 200))));

  if (!query_.parse(raw_query)) refuse(400, fmt::format("{}: {}", endpoint_name(endpoint), query_.error()));
  // The request tells its dialect: a 20-byte info_hash is a BitTorrent client's.
  if (bt_ && (endpoint == Endpoint::announce || endpoint == Endpoint::scrape) && is_bt_request(query_)) {
    endpoint = endpoint == Endpoint::announce ? Endpoint::bt_announce : Endpoint::bt_scrape;
    return bt_serve(request, now, out, endpoint);
  }
  switch (endpoint) {
    case Endpoint::announce: return announce(request, now, out);
    case Endpoint::scrape: return scrape(out);
    case Endpoint::files: return files(out);
    case Endpoint::lookup: return lookup(out);
    case Endpoint::publish: return publish(request, out);
    case Endpoint::withdraw: return withdraw(request, out);
    case Endpoint::meta: return meta(path.substr(6), out);
    case Endpoint::stats: return stats(out);
    case Endpoint::metrics: return metrics(out);
    case Endpoint::relay: relay(request, out); return Task<void>::ready();
    case Endpoint::bt_swarms:
      if (!bt_) {
        out.body = R"({"mode":"off","swarms":[],"truncated":false})";
        return Task<void>::ready();
      }
      return bt_->swarms_json(out);
    case Endpoint::dashboard:
      out.content_type = "text/html; charset=utf-8";
      out.body = dashboard_html();
      return Task<void>::ready();
    default: return Task<void>::ready();
  }
}

// --- announce (the hot path: no JSON library, no SQLite, no allocation for plain values) ---

Task<void> Api::announce(const HttpRequest& request, Clock::time_point now, HttpResponse& out) {
  constexpr std::string_view ep = "announce";
  AnnounceInput in;
  in.info_hash = parse_hash(ep, "info_hash", required_param(query_, ep, "info_hash"));
  if (is_bt_swarm_key(in.info_hash))
    refuse(400, "announce: this info_hash is reserved for BitTorrent swarms (it ends in the tag of bt_swarm.hpp)");
  std::string_view peer_id = required_param(query_, ep, "peer_id");
  if (!peer_id_from_hex(peer_id, in.peer_id))
    refuse(400, fmt::format("announce: peer_id must be 40 hex digits, got {} characters", peer_id.size()));
  in.port = static_cast<std::uint16_t>(uint_param(ep, "port", required_param(query_, ep, "port"), 65535));
  if (in.port == 0) refuse(400, "announce: port must be in 1-65535, got 0");
  std::string_view event = query_.get("event").value_or("");
  if (event.empty() || event == "periodic") in.event = Event::periodic;
  else if (event == "started") in.event = Event::started;
  else if (event == "completed") in.event = Event::completed;
  else if (event == "stopped") in.event = Event::stopped;
  else refuse(400, fmt::format("announce: event must be started, completed, stopped or periodic, got {:?}",
                               std::string(event.substr(0, 32))));
  in.left = uint_param(ep, "left", required_param(query_, ep, "left"), UINT64_MAX);
  if (auto v = query_.get("uploaded")) uint_param(ep, "uploaded", *v, UINT64_MAX);
  if (auto v = query_.get("downloaded")) uint_param(ep, "downloaded", *v, UINT64_MAX);
  in.numwant = limits::kDefaultNumwant;
  if (auto v = query_.get("numwant"))
    in.numwant = static_cast<int>(std::min<std::uint64_t>(uint_param(ep, "numwant", *v, UINT32_MAX), limits::kMaxNumwant));
  in.ip = request.remote_ip;  // owned by the connection, which waits for this answer
  if (withdrawn_.count(in.info_hash)) {
    // Its publisher withdrew it: seeders stop serving it; nobody is added to its swarm.
    fmt::format_to(std::back_inserter(out.body), "{{\"interval\":{},\"peers\":[],\"seeders\":0,\"leechers\":0,\"withdrawn\":true}}",
                   options_.interval_seconds);
    co_return;
  }

  AnnounceReply reply = co_await swarms_.announce(in, now);
  const AnnounceResult& r = reply.result;
  switch (r.status) {
    case AnnounceStatus::ok: break;
    case AnnounceStatus::too_many_swarms:
      refuse(503, fmt::format("announce: tracker is full ({} swarms); try later", limits::kMaxSwarms));
    case AnnounceStatus::swarm_full:
      refuse(503, fmt::format("announce: swarm {} is full ({} peers)", to_hex(in.info_hash), limits::kMaxPeersPerSwarm));
    case AnnounceStatus::too_many_peers:
      refuse(503, fmt::format("announce: tracker is full ({} peers); try later", limits::kMaxPeersTotal));
  }
  if (r.completed_now) co_await catalog_.note_completed(in.info_hash);

  auto o = std::back_inserter(out.body);
  fmt::format_to(o, "{{\"interval\":{},\"peers\":[", options_.interval_seconds);
  bool first = true;
  std::string swarm_hex;
  for (const PeerEntry& p : reply.peers) {
    // A member that waits for rendezvous (it cannot be dialled: behind a NAT) is told to
    // dial this announcer now, while this announcer dials it: both ends at once. Two
    // seeders have nothing to exchange.
    bool told = false;
    if (rendezvous_on_ && in.event != Event::stopped && !(in.left == 0 && p.seeder) &&
        board_.polling(p.ip, p.port, now)) {
      if (swarm_hex.empty()) swarm_hex = to_hex(in.info_hash);
      told = board_.post(p.ip, p.port, RendezvousNote{swarm_hex, std::string(in.ip), in.port, {}}, now);
    }
    fmt::format_to(o, "{}{{\"ip\":\"{}\",\"port\":{}{}}}", first ? "" : ",", p.ip, p.port,
                   told ? ",\"rendezvous\":true" : "");
    first = false;
  }
  fmt::format_to(o, "],\"seeders\":{},\"leechers\":{}", r.seeders, r.leechers);
  if (rendezvous_on_) {
    fmt::format_to(o, ",\"rendezvous\":true");
    if (rendezvous_.issue_relay_ticket) fmt::format_to(o, ",\"relay_port\":{}", rendezvous_.relay_port);
  }
  out.body += '}';
}

// --- the BitTorrent dialect (bt_announce.*) ---

Task<void> Api::bt_serve(const HttpRequest& request, Clock::time_point now, HttpResponse& out, Endpoint endpoint) {
  int status = 200;
  try {
    if (endpoint == Endpoint::bt_announce) co_await bt_->announce(query_, request.remote_ip, now, out);
    else co_await bt_->scrape(query_, out);
  } catch (const BtRefusal& e) {
    status = e.status;
    out.body = bt_failure(e.reason);
  } catch (const QueryRefusal& e) {
    status = 400;
    out.body = bt_failure(e.message);
  } catch (const StoreUnavailable& e) {
    status = 503;
    out.body = bt_failure(e.what());
   } catch (const std::exception& e) {
    status = 500;
    out.body = bt_failure(fmt::format("internal error in {}: {}", endpoint_name(endpoint), e.what()));
  }
  // Clients read "failure reason" only from a 200 answer; /metrics keeps the real outcome.
  out.status = 200;
  out.content_type = "text/plain";
  pending_.count_request(endpoint, status);
}

// --- rendezvous and relay (docs/TRACKER.md "Across NATs") ---------------------------------------

void Api::fill_poll_answer(HttpResponse& out, const std::string& ip, std::uint16_t port,
                           const std::vector<RendezvousNote>& notes) {
  json list = json::array();
  for (const auto& n : notes) {
    json e{{"swarm", n.swarm}, {"ip", n.ip}, {"port", n.port}};
    if (!n.relay_ticket.empty()) e["relay"] = json{{"ticket", n.relay_ticket}, {"port", rendezvous_.relay_port}};
    list.push_back(std::move(e));
  }
  json answer{{"notes", std::move(list)}, {"ip", ip}, {"port", port}};
  auto reachable = board_.reachable(ip, port);
  answer["reachable"] = reachable ? json(*reachable) : json(nullptr);
  out.body = answer.dump();
}

void Api::rendezvous(const HttpRequest& request, HttpResponse& out, net::HttpDone done) {
  out.reset();
  constexpr std::string_view ep = "rendezvous";
  auto now = Clock::now();
  std::string ip(request.remote_ip);
  std::uint16_t port = 0;
  try {
    if (!query_.parse(split_target(request.target).second)) refuse(400, fmt::format("{}: {}", ep, query_.error()));
    port = static_cast<std::uint16_t>(uint_param(ep, "port", required_param(query_, ep, "port"), 65535));
    if (port == 0) refuse(400, "rendezvous: port must be in 1-65535, got 0");
  } catch (const HttpError& e) {
    net::error_response(out, e.status, e.message);
    pending_.count_request(Endpoint::rendezvous, out.status);
    return done();
  } catch (const QueryRefusal& e) {
    net::error_response(out, 400, e.message);
    pending_.count_request(Endpoint::rendezvous, out.status);
    return done();
  }
  // The first poll of a member (and one every kProbeInterval) makes the tracker try to
  // connect back: the answer says whether the member can be dialled from outside.
  if (rendezvous_.probe && board_.probe_due(ip, port, now)) {
    board_.probe_started(ip, port, now);
    rendezvous_.probe(ip, port, [this, ip, port](bool ok) {
      bool first = !board_.reachable(ip, port).has_value();
      board_.set_reachable(ip, port, ok, Clock::now());
      if (first) board_.wake(ip, port);  // the member learns it now, not in kHold
    });
  }
  auto answered = [this, &out, done, ip, port](std::vector<RendezvousNote> notes) {
    fill_poll_answer(out, ip, port, notes);
    pending_.count_request(Endpoint::rendezvous, out.status);
    done();
  };
  // A member that does not know yet whether it can be dialled (it just started) learns
  // what an earlier probe found at once, not after kHold.
  if (query_.get("reachable") == std::string_view("unknown") && board_.reachable(ip, port).has_value())
    return answered({});
  if (board_.wait(ip, port, answered, now) == RendezvousBoard::WaitResult::refused) {
    net::error_response(out, 503, fmt::format("rendezvous: too many open polls from {} or in all; retry later", ip));
    pending_.count_request(Endpoint::rendezvous, out.status);
    done();
  }
}

void Api::relay(const HttpRequest& request, HttpResponse& out) {
  constexpr std::string_view ep = "relay";
  if (!rendezvous_.issue_relay_ticket) refuse(404, "relay: this tracker runs no relay (p2p-tracker --relay)");
  Digest swarm = parse_hash(ep, "swarm", required_param(query_, ep, "swarm"));
  auto port = static_cast<std::uint16_t>(uint_param(ep, "port", required_param(query_, ep, "port"), 65535));
  std::string to_ip(required_param(query_, ep, "to_ip"));
  auto to_port = static_cast<std::uint16_t>(uint_param(ep, "to_port", required_param(query_, ep, "to_port"), 65535));
  if (port == 0 || to_port == 0) refuse(400, "relay: port and to_port must be in 1-65535");
  auto now = Clock::now();
  if (to_ip.size() > 64 || !board_.polling(to_ip, to_port, now))
    refuse(404, fmt::format("relay: {}:{} is not waiting for rendezvous at this tracker", to_ip.substr(0, 64), to_port));
  std::string swarm_hex = to_hex(swarm);
  std::string ticket = rendezvous_.issue_relay_ticket(swarm_hex);
  if (!board_.post(to_ip, to_port, RendezvousNote{swarm_hex, std::string(request.remote_ip), port, ticket}, now))
    refuse(429, fmt::format("relay: {}:{} was told about {}:{} less than {} s ago", to_ip, to_port,
                            std::string(request.remote_ip), port,
                            std::chrono::duration_cast<std::chrono::seconds>(RendezvousBoard::kPairInterval).count()));
  out.body = json{{"ticket", ticket}, {"relay_port", rendezvous_.relay_port}}.dump();
}

Task<void> Api::scrape(HttpResponse& out) {
  std::size_t n = query_.count("info_hash");
  if (n == 0) refuse(400, "scrape: give at least one info_hash (for every file use /files)");
  if (n > limits::kMaxScrapeHashes)
    refuse(400, fmt::format("scrape: at most {} info_hash parameters per request, got {}", limits::kMaxScrapeHashes, n));
  std::vector<Digest> hashes;
  hashes.reserve(n);
  query_.for_each("info_hash", [&](std::string_view hex) { hashes.push_back(parse_hash("scrape", "info_hash", hex)); });

  std::vector<SwarmCounts> counts = co_await swarms_.counts(hashes);
  std::vector<std::optional<std::uint64_t>> completed = co_await catalog_.completed(hashes);
  json files = json::object();
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const SwarmCounts& c = counts.at(i);
    // A published file's counter is durable; an unpublished swarm's lives as long as the swarm.
    files[to_hex(hashes[i])] = json{{"seeders", c.seeders},
                                    {"leechers", c.leechers},
                                    {"completed", completed.at(i).value_or(c.completed)}};
  }
  out.body = json_text(json{{"files", std::move(files)}});
}

Task<void> Api::files(HttpResponse& out) {
  std::string q(query_.get("q").value_or(""));
  if (q.size() > limits::kMaxQueryBytes)
    refuse(400, fmt::format("files: q is longer than {} bytes", limits::kMaxQueryBytes));
  std::size_t limit = limits::kMaxFilesListed;
  if (auto v = query_.get("limit")) limit = uint_param("files", "limit", *v, limits::kMaxFilesListed);

  std::vector<FileRecord> records = co_await catalog_.list(q, limit + 1);  // one more tells whether the list was cut
  bool truncated = records.size() > limit;
  if (truncated) records.resize(limit);
  std::vector<Digest> hashes;
  for (const FileRecord& r : records) hashes.push_back(r.info_hash);
  std::vector<SwarmCounts> counts = co_await swarms_.counts(hashes);
  json list = json::array();
  for (std::size_t i = 0; i < records.size(); ++i) list.push_back(file_json(records[i], counts.at(i)));
  out.body = json_text(json{{"files", std::move(list)}, {"count", records.size()}, {"truncated", truncated}});
}

Task<void> Api::lookup(HttpResponse& out) {
  auto name_view = query_.get("name");
  if (!name_view) name_view = query_.get("file_name");  // the seed projects' trackers used file_name
  auto hash = query_.get("info_hash");
  if (name_view.has_value() == hash.has_value())
    refuse(400, "lookup: give exactly one of name (or file_name) and info_hash");
  std::optional<FileRecord> r;
  if (name_view) {
    if (name_view->empty() || name_view->size() > limits::kMaxQueryBytes)
      refuse(400, fmt::format("lookup: name must be 1-{} bytes", limits::kMaxQueryBytes));
    std::string name(*name_view);
    r = co_await catalog_.find_by_name(name);
    if (!r) refuse(404, fmt::format("lookup: no published file named {:?}", name));
    // Two different files with this name: say which, rather than pick one.
    std::vector<FileRecord> same = co_await catalog_.list(name, limits::kMaxFilesListed);
    std::vector<std::string> ids;
    for (const FileRecord& f : same)
      if (f.name == name) ids.push_back(to_hex(f.info_hash));
    if (ids.size() > 1)
      refuse(409, fmt::format("lookup: {} files are named {:?}; choose one by info hash (--id): {}", ids.size(), name,
                              fmt::join(ids, ", ")));
  } else {
    Digest d = parse_hash("lookup", "info_hash", *hash);
    r = co_await catalog_.find(d);
    if (!r) refuse(404, fmt::format("lookup: no published file with info_hash {}", to_hex(d)));
  }
  std::vector<SwarmCounts> counts = co_await swarms_.counts(std::span<const Digest>(&r->info_hash, 1));
  std::vector<PeerEntry> peers = co_await swarms_.peers(r->info_hash, limits::kMaxNumwant);
  json list = json::array();
  for (const PeerEntry& p : peers) {
    json e{{"ip", p.ip}, {"port", p.port}, {"seeder", p.seeder}};
    if (p.last_announce_ms > 0) e["last_announce_ms"] = p.last_announce_ms;
    list.push_back(std::move(e));
  }
  out.body = json_text(json{{"file", file_json(*r, counts.at(0))}, {"peers", std::move(list)}});
}

namespace {

// Suspends a publish until the checker hands its verdict back on the loop.
struct CheckAwaiter {
  const Api::MetaChecker& checker;
  std::string_view text;  // the request's body: it outlives the check
  std::optional<MetaCheck> result;
  bool queued = false;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    queued = checker(text, [this, h](MetaCheck r) {
      result = std::move(r);
      h.resume();
    });
    return queued;  // not queued: go on at once (503)
  }
  bool await_resume() const noexcept { return queued; }
};

// Gives an address's check back to its budget however the publish ends.
struct BudgetRelease {
  PublishBudget& budget;
  std::string ip;
  ~BudgetRelease() { budget.done(ip); }
};

}  // namespace

std::optional<net::HttpRefusal> Api::refuse_body(std::string_view method, std::string_view target,
                                                 std::string_view remote_ip, std::uint64_t declared) {
  if (method != kPost || split_target(target).first != "/publish") return std::nullopt;
  auto refusal = publish_refusal(publish_budget_.peek(remote_ip, declared, Clock::now()), remote_ip);
  if (refusal && refusal->status == 503) return std::nullopt;  // decided once the body is in
  return refusal;
}

Task<void> Api::publish(const HttpRequest& request, HttpResponse& out) {
  if (request.body.empty()) refuse(400, "publish: empty body; POST the .p2pmeta JSON");
  if (request.body.size() > limits::kMaxPublishBytes)
    refuse(413, fmt::format("publish: meta is {} bytes, more than the {} allowed", request.body.size(),
                            limits::kMaxPublishBytes));
  // What one address may make the tracker check (tracker_limits.hpp), before any of it is.
  std::string ip(request.remote_ip);
  if (auto refusal = publish_refusal(publish_budget_.take(ip, request.body.size(), Clock::now()), ip))
    refuse(refusal->status, std::move(refusal->message));
  BudgetRelease release{publish_budget_, ip};
  // Checked on the server's worker threads, never on this loop (an 8 MiB meta is
  // tens of milliseconds of parsing that announces would otherwise wait behind).
  MetaCheck check;
  if (meta_checker_) {
    CheckAwaiter wait{meta_checker_, request.body, {}};
    if (!co_await wait)
      refuse(503, fmt::format("publish: {} metas are being checked already; retry shortly", limits::kMaxMetaChecksQueued));
    check = std::move(*wait.result);
  } else {
    check = check_published_meta(std::string(request.body));
  }
  if (check.internal) refuse(500, fmt::format("publish: {}", check.error));
  if (!check.meta) refuse(400, check.error);
  // A private meta holds its swarm key: a catalog would hand it to anyone. Refused, not stored.
  if (check.is_private)
    refuse(403, "publish: this meta is private (it holds a swarm key); private swarms are never published");
  const PublishedMeta& meta = *check.meta;
  OwnerToken token = new_owner_token();
  std::optional<PublishOutcome> result;
  try {
    result = co_await catalog_.publish(meta, token.hash);
  } catch (const Error& e) {
    if (e.code() == ExitCode::tracker) refuse(503, fmt::format("publish: {}", e.what()));
    refuse(500, fmt::format("publish: {}", e.what()));
  }
  out.status = result->created ? 201 : 200;
  json answer{{"created", result->created}, {"info_hash", to_hex(result->record.info_hash)}, {"name", result->record.name}};
  // Only the first publisher learns the token: it is the right to withdraw.
  if (result->created) {
    answer["owner_token"] = token.hex;
    withdrawn_.erase(result->record.info_hash);  // published again after a withdrawal
  }
  out.body = json_text(answer);
}

Task<void> Api::withdraw(const HttpRequest& request, HttpResponse& out) {
  Digest d = parse_hash("withdraw", "info_hash", required_param(query_, "withdraw", "info_hash"));
  auto authorization = request.header("authorization");
  if (!authorization)
    refuse(403, "withdraw: missing header Authorization: Bearer <owner_token> (the token /publish answered)");
  auto token_hash = owner_token_hash_from_header(*authorization);
  if (!token_hash) refuse(403, "withdraw: Authorization must be \"Bearer\" and the 64-hex-digit owner token");

  WithdrawStatus status = co_await catalog_.withdraw(d, *token_hash);
  switch (status) {
    case WithdrawStatus::withdrawn: break;
    case WithdrawStatus::not_found: refuse(404, fmt::format("withdraw: no published file with info_hash {}", to_hex(d)));
    case WithdrawStatus::no_owner:
      refuse(403, fmt::format("withdraw: {} was published before owner tokens existed; it cannot be withdrawn over HTTP",
                              to_hex(d)));
    case WithdrawStatus::wrong_token: refuse(403, fmt::format("withdraw: wrong owner token for {}", to_hex(d)));
  }
  withdrawn_.insert(d);
  out.body = json_text(json{{"withdrawn", true}, {"info_hash", to_hex(d)}});
}

Task<void> Api::meta(std::string_view hash_hex, HttpResponse& out) {
  Digest d = parse_hash("meta", "the path /meta/<info_hash>", hash_hex);
  std::optional<std::string> text = co_await catalog_.meta_json(d);
  if (!text) refuse(404, fmt::format("meta: no published file with info_hash {}", to_hex(d)));
  out.body = std::move(*text);
}

Task<Gauges> Api::gauges() {
  SwarmTotals t = co_await swarms_.totals();
  std::size_t files = co_await catalog_.size();
  Gauges g;
  g.swarms = t.swarms;
  g.peers = t.peers;
  g.seeders = std::min(t.seeders, t.peers);
  g.files = files;
  g.connections = open_connections_ ? open_connections_() : 0;
  g.expired_peers = t.expired_peers;
  co_return g;
}

Task<void> Api::stats(HttpResponse& out) {
  Gauges g = co_await gauges();
  Counters totals = co_await counters_.totals(pending_);
  out.body = json_text(json{{"swarms", g.swarms},
                       {"peers", g.peers},
                       {"seeders", g.seeders},
                       {"leechers", g.peers - g.seeders},
                       {"files", g.files},
                       {"connections", g.connections},
                       {"requests", totals.requests_total()},
                       {"expired_peers", g.expired_peers},
                       {"interval", options_.interval_seconds},
                       {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count()}});
  if (rendezvous_on_) {
    json rv{{"open_polls", board_.open_polls()}, {"notes_posted", board_.notes_posted()}};
    out.body.pop_back();  // the closing brace: the object goes on
    out.body += ",\"rendezvous\":" + rv.dump();
    if (rendezvous_.relay_counters)
      out.body += ",\"relay\":" + relay_stats_json(*rendezvous_.relay_counters, rendezvous_.relay_port).dump();
    out.body += '}';
  }
}

Task<void> Api::metrics(HttpResponse& out) {
  Gauges g = co_await gauges();
  Counters totals = co_await counters_.totals(pending_);
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";
  out.body = render_metrics(totals, g);
  if (rendezvous_on_)
    out.body += fmt::format(
        "# HELP p2p_tracker_rendezvous_polls Rendezvous polls held open now.\n"
        "# TYPE p2p_tracker_rendezvous_polls gauge\np2p_tracker_rendezvous_polls {}\n"
        "# HELP p2p_tracker_rendezvous_notes_total Notes sent to polling members (dial now, or meet at the relay).\n"
        "# TYPE p2p_tracker_rendezvous_notes_total counter\np2p_tracker_rendezvous_notes_total {}\n",
        board_.open_polls(), board_.notes_posted());
  if (rendezvous_.relay_counters) out.body += render_relay_metrics(*rendezvous_.relay_counters);
}

Task<std::size_t> Api::expire(Clock::time_point now) { return swarms_.expire(now); }

Task<void> Api::flush() {
  co_await catalog_.flush();
  co_await counters_.flush(pending_);
  co_await refresh_withdrawn();
}

Task<void> Api::refresh_withdrawn() {
  std::vector<Digest> list = co_await catalog_.withdrawn();
  withdrawn_ = std::set<Digest>(list.begin(), list.end());
}

}  // namespace p2p::tracker
