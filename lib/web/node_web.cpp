// NodeWeb: the observer tee, the once-a-second push, control actions.
#include "web/node_web.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "base/address.hpp"
#include "base/error.hpp"
#include "net/http_server.hpp"
#include "web/node_api.hpp"

namespace p2p::web {

namespace {
std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string sse_message(std::string_view event, std::string_view data) {
  return fmt::format("event: {}\ndata: {}\n\n", event, data);  // our JSON has no raw newlines
}

NodeWeb::NodeWeb(SessionObserver& next, NodeWebOptions options) : next_(next), options_(std::move(options)) {}

NodeWeb::~NodeWeb() { detach(); }

NodeWeb::Serving NodeWeb::attach(Session& session) {
  // Port 0 (any free port) is allowed here, unlike in a peer's or tracker's address.
  std::string why, text = options_.address;
  bool any_port = text.ends_with(":0");
  if (any_port) text.back() = '1';
  auto hp = parse_host_port(text, why);
  if (!hp) throw Error(ExitCode::usage, fmt::format("--http {:?}: {}", options_.address, why));
  if (any_port) hp->port = 0;
  token_ = std::make_unique<ControlToken>(ControlToken::generate());
  token_->save(options_.token_file);
  session_ = &session;
  net::HttpOptions ho;
  ho.host = hp->host;
  ho.port = hp->port;
  // A person's browsers and a few scripts; at the cap a newcomer displaces the connection
  // idle longest (net/http_server.cpp), so the owner can always load the page. Kept out
  // of the peers' descriptor budget.
  ho.max_connections = kMaxPageConnections;
  session.reserve_descriptors(ho.max_connections);
  api_ = std::make_unique<NodeApi>(*this);
  server_ = std::make_unique<net::HttpServer>(session.io_context(), *api_, ho);
  api_->set_bound(server_->local_address());
  server_->start();
  history_.sample(steady_seconds(), unix_ms(), 0, 0);
  session.every(std::chrono::milliseconds(1000), [this] { tick(); });
  return Serving(*this);
}

void NodeWeb::detach() {
  for (auto& s : streams_) s->end();
  streams_.clear();
  if (server_) server_->stop();
  server_.reset();
  api_.reset();
  session_ = nullptr;
}

std::string NodeWeb::address() const { return server_ ? server_->local_address() : std::string(); }

void NodeWeb::on_event(const std::string& torrent, EventKind kind, const std::string& text) {
  const LoggedEvent& e = events_.add(unix_ms(), torrent, kind, text);
  if (!streams_.empty()) broadcast(sse_message("log", event_json(e)));
  next_.on_event(torrent, kind, text);
}

SessionSnapshot NodeWeb::snapshot() const { return session_ ? session_->snapshot() : SessionSnapshot{}; }

void NodeWeb::tick() {
  if (!session_) return;
  SessionSnapshot s = session_->snapshot();
  if (const RateSample* r = history_.sample(steady_seconds(), unix_ms(), s.counters.recv_payload_bytes,
                                            s.counters.sent_payload_bytes);
      r && !streams_.empty())
    broadcast(sse_message("rate", fmt::format("[{},{},{}]", r->unix_ms, r->down, r->up)));
  if (!streams_.empty())
    broadcast(sse_message("status", status_json(s, options_.identity, history_.latest(), true, kMaxPeerRows, downloads())));
}

void NodeWeb::broadcast(std::string_view message) {
  std::erase_if(streams_, [](const auto& s) { return s->closed(); });
  for (auto& s : streams_) s->send(message);
}

void NodeWeb::subscribe(const std::shared_ptr<net::HttpStream>& stream) {
  std::erase_if(streams_, [](const auto& s) { return s->closed(); });
  // At the cap the oldest stream ends (its page reconnects in 2 s, "retry" below): streams
  // held open by someone else never keep the owner's page from going live.
  while (streams_.size() >= kMaxStreams) {
    streams_.front()->end();
    streams_.erase(streams_.begin());
  }
  stream->send("retry: 2000\n\n");
  stream->send(sse_message("history", history_json(history_)));
  for (const auto& e : events_.events()) stream->send(sse_message("log", event_json(e)));
  stream->send(sse_message("status", status(true)));
  streams_.push_back(stream);
}

std::vector<DownloadView> NodeWeb::downloads() const { return downloads_ ? downloads_->list() : std::vector<DownloadView>{}; }

std::string NodeWeb::status(bool with_peers) const {
  return status_json(snapshot(), options_.identity, history_.latest(), with_peers, kMaxPeerRows, downloads());
}

ActionResult NodeWeb::set_paused(const Digest& info_hash, bool paused) {
  if (downloads_)
    if (auto r = downloads_->act(info_hash, paused ? DownloadAction::pause : DownloadAction::resume)) return *r;
  if (!session_ || !session_->set_paused(info_hash, paused))
    return {404, fmt::format("no running file with info_hash {} here", to_hex(info_hash)), to_hex(info_hash)};
  return {200, paused ? "paused" : "resumed", to_hex(info_hash)};
}

ActionResult NodeWeb::remove(const Digest& info_hash) {
  if (downloads_)
    if (auto r = downloads_->act(info_hash, DownloadAction::remove)) return *r;
  if (!session_ || !session_->has_torrent(info_hash))
    return {404, fmt::format("no file with info_hash {} here", to_hex(info_hash)), to_hex(info_hash)};
  session_->remove_torrent(info_hash, "removed over the HTTP API");
  return {200, "removed", to_hex(info_hash)};
}

void NodeWeb::add(const AddRequest& request, std::function<void(ActionResult)> done) {
  if (!add_) return done({409, fmt::format("a {} node serves the file it was started for; adding files is p2p-seed's",
                                           options_.identity.kind), {}});
  add_(request, std::move(done));
}

}  // namespace p2p::web

namespace p2p::web {

void NodeWeb::add_download(DownloadRequest request, std::function<void(ActionResult)> done) {
  if (!downloads_)
    return done({409, fmt::format("a {} node does not take downloads; p2p-seed --http does", options_.identity.kind), {}});
  downloads_->add(std::move(request), std::move(done));
}

ActionResult NodeWeb::download_action(const Digest& info_hash, DownloadAction action) {
  if (!downloads_)
    return {409, fmt::format("a {} node has no download queue; p2p-seed --http has", options_.identity.kind), {}};
  if (auto r = downloads_->act(info_hash, action)) return *r;
  if (action == DownloadAction::pause || action == DownloadAction::resume) return set_paused(info_hash, action == DownloadAction::pause);
  return {404, fmt::format("no download with info_hash {} in the queue", to_hex(info_hash)), to_hex(info_hash)};
}

}  // namespace p2p::web
