// A node's web face (p2p-seed / p2p-download --http HOST:PORT): sits between the
// session and its observer (the progress reporter), keeping recent events and a
// rate history, and serves the live page, its SSE stream, the JSON control API
// and /metrics (node_api.hpp) with net::HttpServer on the session's io_context.
// Everything runs on the io thread; control actions change the session there.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "net/http_types.hpp"
#include "swarm/session.hpp"
#include "swarm/session_snapshot.hpp"
#include "web/control_token.hpp"
#include "web/download_control.hpp"
#include "web/event_log.hpp"
#include "web/rate_history.hpp"
#include "web/status_json.hpp"

namespace p2p::net {
class HttpServer;
}

namespace p2p::web {

class NodeApi;

// The answer to a control action: an HTTP status and a message (or the file's id).
struct ActionResult {
  int status = 200;
  std::string message;
  std::string info_hash;  // hex, when the action concerns one file
};

// POST /api/files: exactly one of the two.
struct AddRequest {
  std::filesystem::path meta;  // a .p2pmeta whose source is WORKDIR/<name> (or beside the meta)
  std::filesystem::path file;  // a complete file to share; its meta is created in WORKDIR/.p2p/metas/
};
using AddHandler = std::function<void(const AddRequest&, std::function<void(ActionResult)>)>;

struct NodeWebOptions {
  std::string address = "127.0.0.1:0";  // HOST:PORT to listen on
  std::filesystem::path token_file;     // WORKDIR/.p2p/http-token
  NodeIdentity identity;
};

class NodeWeb final : public SessionObserver {
 public:
  // Streams of the live page open at once; more get 503 (each costs a snapshot a second).
  static constexpr std::size_t kMaxStreams = 32;
  static constexpr std::size_t kMaxPageConnections = 64;

  NodeWeb(SessionObserver& next, NodeWebOptions options);
  ~NodeWeb() override;

  // Draws and saves the token, binds (Error(bind_failed) / Error(usage) for a bad
  // address) and starts serving on the session's loop. The returned guard stops
  // serving when it goes: declare it after the session, so it goes first.
  class Serving {
   public:
    explicit Serving(NodeWeb& w) : w_(&w) {}
    Serving(Serving&& o) noexcept : w_(std::exchange(o.w_, nullptr)) {}
    ~Serving() {
      if (w_) w_->detach();
    }

   private:
    NodeWeb* w_;
  };
  [[nodiscard]] Serving attach(Session& session);
  std::string address() const;  // as bound
  const ControlToken& token() const { return *token_; }
  void set_add_handler(AddHandler handler) {
    add_ = std::move(handler);
    options_.identity.can_add = static_cast<bool>(add_);
  }
  // The node's download queue (p2p-seed); it outlives the page. `trackers`: the node's own.
  void set_download_control(DownloadControl* control, std::vector<std::string> trackers) {
    downloads_ = control;
    options_.identity.can_download = control != nullptr;
    options_.identity.trackers = std::move(trackers);
  }

  // ---- SessionObserver: kept, then passed on ----
  void on_listening(const std::string& host, std::uint16_t port) override { next_.on_listening(host, port); }
  void on_event(const std::string& torrent, EventKind kind, const std::string& text) override;
  void on_progress(const TorrentStats& stats) override { next_.on_progress(stats); }
  void on_file_complete(const std::string& torrent, const std::string& path, std::uint64_t size) override {
    next_.on_file_complete(torrent, path, size);
  }

  // ---- for NodeApi (io thread) ----
  SessionSnapshot snapshot() const;
  const NodeIdentity& identity() const { return options_.identity; }
  const EventLog& events() const { return events_; }
  const RateHistory& history() const { return history_; }
  // The stream gets the history, the events kept and a status now, then live
  // updates; at kMaxStreams the oldest open stream is ended to make room.
  void subscribe(const std::shared_ptr<net::HttpStream>& stream);
  // A download of the queue is paused, resumed or removed there; other files in the session.
  ActionResult set_paused(const Digest& info_hash, bool paused);
  ActionResult remove(const Digest& info_hash);
  void add(const AddRequest& request, std::function<void(ActionResult)> done);
  bool can_add() const { return static_cast<bool>(add_); }
  // POST /api/downloads and /api/downloads/<info_hash>/<action>: 409 without a queue.
  void add_download(DownloadRequest request, std::function<void(ActionResult)> done);
  ActionResult download_action(const Digest& info_hash, DownloadAction action);
  std::vector<DownloadView> downloads() const;
  std::string status(bool with_peers) const;  // status_json of now, downloads merged

 private:
  void detach();
  void tick();  // every second: rate sample, status to the streams
  void broadcast(std::string_view sse_message);

  SessionObserver& next_;
  NodeWebOptions options_;
  Session* session_ = nullptr;
  std::unique_ptr<ControlToken> token_;
  std::unique_ptr<NodeApi> api_;
  std::unique_ptr<net::HttpServer> server_;
  EventLog events_;
  RateHistory history_;
  std::vector<std::shared_ptr<net::HttpStream>> streams_;
  AddHandler add_;
  DownloadControl* downloads_ = nullptr;
};

// "event: NAME\ndata: JSON\n\n"
std::string sse_message(std::string_view event, std::string_view data);

}  // namespace p2p::web
