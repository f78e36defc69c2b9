// Keeps one torrent registered with its trackers: "started", then every interval
// the tracker asks for, "completed" once, and "stopped" at the end. One
// coroutine per tracker on the session's io thread (no thread per torrent); a
// tracker that is down or answers garbage is retried with back-off and
// reported once, not per try. Included only by swarm sources (Asio).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "format/wire.hpp"
#include "tracker_client/tracker_client.hpp"

namespace p2p {

class Announcer : public std::enable_shared_from_this<Announcer> {
 public:
  struct Numbers {
    std::uint64_t left = 0, uploaded = 0, downloaded = 0;
  };
  // All callbacks run on the io thread.
  // Every answer (its peers, which of them the tracker told to dial us, rendezvous support).
  using Answered = std::function<void(const std::string& tracker, tracker_client::AnnounceResponse& answer)>;
  using Notice = std::function<void(const std::string&)>;
  using Progress = std::function<Numbers()>;
  // A tracker answered that the file's publisher withdrew it.
  using Withdrawn = std::function<void(const std::string& tracker)>;
  // The port to announce, read at each announce: the session's listen port, or the
  // external port its gateway mapped (which may differ, and may come later).
  using Port = std::function<std::uint16_t()>;

  Announcer(asio::io_context& io, std::vector<std::string> trackers, Digest info_hash, std::string peer_id,
            Port port, Answered on_answer, Notice on_notice, Progress progress, Withdrawn on_withdrawn = {});

  void start();
  void completed();  // announce "completed" now (once)
  // Announce now to every tracker (the port we are reached at changed); the schedule goes on from there.
  void announce_now();
  // Stops the schedule and announces "stopped" to every tracker that knows us, each bounded.
  asio::awaitable<void> stop();
  // Stops the schedule without telling the trackers (the torrent failed or is being removed in a hurry).
  void cancel();

 private:
  struct Tracker {
    std::string address;
    std::unique_ptr<asio::steady_timer> timer;
    int failures = 0;
    bool started = false, completed_sent = false, reported_down = false;
  };
  asio::awaitable<void> run(std::size_t index);
  asio::awaitable<void> announce(Tracker& t, tracker_client::AnnounceEvent event);

  asio::io_context& io_;
  std::vector<Tracker> trackers_;
  Digest info_hash_;
  std::string peer_id_;
  Port port_;
  Answered on_answer_;
  Notice on_notice_;
  Progress progress_;
  Withdrawn on_withdrawn_;
  bool completed_ = false, stopped_ = false;
};

}  // namespace p2p
