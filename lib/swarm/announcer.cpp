// Announcer: one thread, per-tracker schedule and back-off.
#include "swarm/announcer.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "base/error.hpp"
#include "net/tracker_client.hpp"

namespace p2p {

using Clock = std::chrono::steady_clock;
namespace {
constexpr auto kTimeout = std::chrono::milliseconds(5000);
constexpr auto kStopTimeout = std::chrono::milliseconds(1500);
constexpr int kMinInterval = 5, kMaxInterval = 3600;  // seconds, whatever the tracker says
}  // namespace

Announcer::Announcer(std::vector<std::string> trackers, Digest info_hash, std::string peer_id, std::uint16_t port,
                     PeersFound on_peers, Notice on_notice)
    : info_hash_(info_hash), peer_id_(std::move(peer_id)), port_(port), on_peers_(std::move(on_peers)),
      on_notice_(std::move(on_notice)) {
  for (auto& t : trackers) trackers_.push_back(Tracker{std::move(t)});
  if (!trackers_.empty()) thread_ = std::thread([this] { run(); });
}

Announcer::~Announcer() { stop(); }

void Announcer::set_progress(std::uint64_t left, std::uint64_t uploaded, std::uint64_t downloaded) {
  left_ = left;
  uploaded_ = uploaded;
  downloaded_ = downloaded;
}

void Announcer::completed() {
  std::lock_guard lock(mu_);
  completed_ = true;
  cv_.notify_all();
}

void Announcer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Announcer::announce(Tracker& t, const std::string& event) {
  tracker::AnnounceRequest req;
  req.info_hash = info_hash_;
  req.peer_id = peer_id_;
  req.port = port_;
  req.event = event;
  req.left = left_;
  req.uploaded = uploaded_;
  req.downloaded = downloaded_;
  try {
    auto res = tracker::announce(t.address, req, event == "stopped" ? kStopTimeout : kTimeout);
    if (t.reported_down) on_notice_(fmt::format("tracker {} is answering again", t.address));
    t.failures = 0;
    t.reported_down = false;
    t.started = true;
    t.next = Clock::now() + std::chrono::seconds(std::clamp(res.interval, kMinInterval, kMaxInterval));
    if (!res.peers.empty()) on_peers_(std::move(res.peers));
  } catch (const std::exception& e) {
    ++t.failures;
    auto backoff = std::chrono::seconds(std::min(300, 2 << std::min(t.failures, 8)));
    t.next = Clock::now() + backoff;
    if (!t.reported_down) {
      t.reported_down = true;
      on_notice_(fmt::format("{}; working with the peers we have, retrying with back-off", e.what()));
    }
  }
}

void Announcer::run() {
  bool sent_completed = false;
  for (;;) {
    std::unique_lock lock(mu_);
    auto next = Clock::time_point::max();
    for (const auto& t : trackers_) next = std::min(next, t.next);
    cv_.wait_until(lock, next, [&] { return stop_ || (completed_ && !sent_completed); });
    if (stop_) break;
    bool do_completed = completed_ && !sent_completed;
    lock.unlock();
    auto now = Clock::now();
    for (auto& t : trackers_) {
      if (do_completed && t.started) announce(t, "completed");
      else if (t.next <= now) announce(t, t.started ? "" : "started");
    }
    if (do_completed) sent_completed = true;
  }
  for (auto& t : trackers_)
    if (t.started) announce(t, "stopped");
}

}  // namespace p2p
