// Announcer: a coroutine per tracker, its timer both the schedule and the wake-up.
#include "swarm/announcer.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <algorithm>

#include "base/error.hpp"
#include "net/use_tuple.hpp"
#include "tracker_client/tracker_client_async.hpp"

namespace p2p {

namespace {
// After a failed announce: 4, 8, 16 … s (doubling per failure in a row), at most 5 min —
// a tracker back from a restart is found within minutes, a dead one costs one request per 5 min.
std::chrono::seconds announce_retry_after(int failures) {
  return std::chrono::seconds(std::min(300, 2 << std::min(failures, 8)));
}
}  // namespace

using Clock = std::chrono::steady_clock;
using tracker_client::AnnounceEvent;

Announcer::Announcer(asio::io_context& io, std::vector<std::string> trackers, Digest info_hash, std::string peer_id,
                     Port port, Answered on_answer, Notice on_notice, Progress progress, Withdrawn on_withdrawn)
    : io_(io), info_hash_(info_hash), peer_id_(std::move(peer_id)), port_(std::move(port)), on_answer_(std::move(on_answer)),
      on_notice_(std::move(on_notice)), progress_(std::move(progress)), on_withdrawn_(std::move(on_withdrawn)) {
  for (auto& t : trackers) trackers_.push_back(Tracker{std::move(t), std::make_unique<asio::steady_timer>(io_)});
}

void Announcer::start() {
  for (std::size_t i = 0; i < trackers_.size(); ++i)
    asio::co_spawn(io_, [self = shared_from_this(), i]() { return self->run(i); }, asio::detached);
}

void Announcer::completed() {
  completed_ = true;
  for (auto& t : trackers_) t.timer->cancel();  // wakes each loop, which sends "completed"
}

void Announcer::announce_now() {
  // An expiry in the past wakes each loop (expires_at cancels its wait), which then announces.
  for (auto& t : trackers_) t.timer->expires_at(Clock::now());
}

void Announcer::cancel() {
  stopped_ = true;
  for (auto& t : trackers_) t.timer->cancel();
}

asio::awaitable<void> Announcer::stop() {
  auto self = shared_from_this();  // outlives the torrent while "stopped" is in flight
  Numbers last = progress_();
  progress_ = [last] { return last; };  // the torrent may be gone before the answers come
  cancel();
  for (auto& t : trackers_) {
    if (!t.started) continue;
    // A download that ends right after completing must still say so, or the
    // tracker never counts it as completed.
    if (completed_ && !t.completed_sent) {
      co_await announce(t, AnnounceEvent::completed);
      t.completed_sent = true;
    }
    co_await announce(t, AnnounceEvent::stopped);
  }
}

asio::awaitable<void> Announcer::run(std::size_t index) {
  auto self = shared_from_this();
  Tracker& t = trackers_[index];
  t.timer->expires_at(Clock::now());
  while (!stopped_) {
    if (!(completed_ && t.started && !t.completed_sent)) co_await t.timer->async_wait(kUseTuple);
    if (stopped_) break;
    if (completed_ && t.started && !t.completed_sent) {
      co_await announce(t, AnnounceEvent::completed);
      t.completed_sent = true;
    } else if (t.timer->expiry() <= Clock::now()) {
      co_await announce(t, t.started ? AnnounceEvent::none : AnnounceEvent::started);
      if (t.started && completed_) t.completed_sent = true;  // "started" with left=0 says it all
    }
  }
}

asio::awaitable<void> Announcer::announce(Tracker& t, AnnounceEvent event) {
  tracker_client::AnnounceRequest req;
  req.info_hash = info_hash_;
  req.peer_id = peer_id_;
  req.port = port_();
  req.event = event;
  Numbers n = progress_();
  req.left = n.left;
  req.uploaded = n.uploaded;
  req.downloaded = n.downloaded;
  try {
    auto res = co_await tracker_client::announce_async(t.address, req, tracker_client::announce_timeout(event));
    if (t.reported_down && !stopped_) on_notice_(fmt::format("tracker {} is answering again", t.address));
    t.failures = 0;
    t.reported_down = false;
    t.started = event != AnnounceEvent::stopped;
    t.timer->expires_after(tracker_client::next_announce_after(res.interval));
    // The port changed while this announce was on its way (announce_now was overridden above).
    if (req.port != port_() && !stopped_) t.timer->expires_at(Clock::now());
    if (!stopped_) on_answer_(t.address, res);
    if (res.withdrawn && !stopped_ && on_withdrawn_) on_withdrawn_(t.address);
  } catch (const std::exception& e) {
    ++t.failures;
    t.timer->expires_after(announce_retry_after(t.failures));
    if (!t.reported_down && !stopped_) {
      t.reported_down = true;
      on_notice_(fmt::format("{}; working with the peers we have, retrying with back-off", e.what()));
    }
  }
}

}  // namespace p2p
