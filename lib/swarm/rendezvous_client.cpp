// RendezvousClient: one long poll per tracker, reachability lines, routing of notes.
#include "swarm/rendezvous_client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include <algorithm>

#include "base/address.hpp"
#include "tracker_client/tracker_client_async.hpp"
#include "net/use_tuple.hpp"

namespace p2p {

namespace {
// The tracker holds a poll ~20 s (RendezvousBoard::kHold); this leaves room for a slow link.
constexpr auto kPollTimeout = std::chrono::seconds(35);
constexpr int kMaxBackoffSeconds = 60;
}  // namespace

void RendezvousClient::tracker_answered(const std::string& tracker, const tracker_client::AnnounceResponse& answer) {
  if (!answer.rendezvous || host_.rendezvous_port() == 0) return;  // not listening: nobody to bring to us
  auto& st = trackers_[tracker];
  st.relay_port = answer.relay_port;
  if (st.polling || st.reachable == true || host_.rendezvous_stopping() || host_.rendezvous_unneeded()) return;
  st.polling = true;
  // The session drains its io_context before it is destroyed, so `this` outlives the loop.
  asio::co_spawn(host_.rendezvous_io(), poll(tracker), asio::detached);
}

std::uint16_t RendezvousClient::relay_port(const std::string& tracker) const {
  auto it = trackers_.find(tracker);
  return it == trackers_.end() ? 0 : it->second.relay_port;
}

std::vector<std::string> RendezvousClient::reachability() const {
  std::vector<std::string> lines;
  for (const auto& [tracker, st] : trackers_)
    if (!st.line.empty()) lines.push_back(st.line);
  return lines;
}

void RendezvousClient::note_reachability(const std::string& tracker, const tracker_client::RendezvousAnswer& answer) {
  auto& st = trackers_[tracker];
  if (!answer.reachable || st.reachable == answer.reachable) return;
  st.reachable = answer.reachable;
  std::string at = format_host_port(answer.seen_as.host, answer.seen_as.port);
  st.line = *answer.reachable
                ? fmt::format("reachable from outside at {} (tracker {} connected back)", at, tracker)
                : fmt::format("not reachable from outside at {} (tracker {} could not connect back: a NAT or firewall "
                              "is in the way); peers reach us when both ends dial at the tracker's rendezvous, or "
                              "through its relay",
                              at, tracker);
  host_.rendezvous_report(st.line);
}

asio::awaitable<void> RendezvousClient::poll(std::string tracker) {
  asio::steady_timer pause(host_.rendezvous_io());
  int failures = 0;
  while (!host_.rendezvous_stopping()) {
    int wait_seconds = 0;
    try {
      auto answer = co_await tracker_client::rendezvous_poll_async(
          tracker, host_.rendezvous_port(), trackers_[tracker].reachable.has_value(),
          std::chrono::duration_cast<std::chrono::milliseconds>(kPollTimeout));
      failures = 0;
      if (host_.rendezvous_stopping() || host_.rendezvous_unneeded()) break;  // mapped meanwhile: dialled directly
      note_reachability(tracker, answer);
      for (const auto& note : answer.notes) host_.rendezvous_note(tracker, note);
      if (answer.reachable == true) break;  // dialled directly from now on: no need to wait here
    } catch (const std::exception&) {
      // A tracker that is down is reported by the announcer already; poll again later.
      ++failures;
      wait_seconds = std::min(kMaxBackoffSeconds, 1 << std::min(failures, 6));
    }
    if (wait_seconds > 0 && !host_.rendezvous_stopping()) {
      pause.expires_after(std::chrono::seconds(wait_seconds));
      co_await pause.async_wait(kUseTuple);
    }
  }
  trackers_[tracker].polling = false;
}

}  // namespace p2p
