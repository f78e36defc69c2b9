// Keeps a swarm registered with its trackers: announces "started", then every
// interval the tracker asks for, "completed" once, and "stopped" on exit.
// Runs the blocking tracker client on its own thread; a tracker that is down
// or answers garbage is retried with back-off and reported once, not per try.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/sha256.hpp"
#include "format/wire.hpp"

namespace p2p {

class Announcer {
 public:
  // Both callbacks run on the announcer's thread.
  using PeersFound = std::function<void(std::vector<wire::PeerAddress>)>;
  using Notice = std::function<void(const std::string&)>;

  Announcer(std::vector<std::string> trackers, Digest info_hash, std::string peer_id, std::uint16_t port,
            PeersFound on_peers, Notice on_notice);
  ~Announcer();  // stops (announcing "stopped", bounded) and joins

  void set_progress(std::uint64_t left, std::uint64_t uploaded, std::uint64_t downloaded);
  void completed();  // announce "completed" now
  void stop();

 private:
  struct Tracker {
    std::string address;
    std::chrono::steady_clock::time_point next{};
    int failures = 0;
    bool started = false, reported_down = false;
  };
  void run();
  void announce(Tracker& t, const std::string& event);

  std::vector<Tracker> trackers_;
  Digest info_hash_;
  std::string peer_id_;
  std::uint16_t port_;
  PeersFound on_peers_;
  Notice on_notice_;
  std::atomic<std::uint64_t> left_{0}, uploaded_{0}, downloaded_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, completed_ = false;
  std::thread thread_;
};

}  // namespace p2p
