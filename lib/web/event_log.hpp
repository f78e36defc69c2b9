// The node's recent events (peer connected, banned, bad piece, ...) for the
// page: a ring of the last kCapacity, numbered so a client can tell what it has
// seen. Pure; the io thread is its only user.
#pragma once
#include <cstdint>
#include <deque>
#include <string>

#include "swarm/session.hpp"

namespace p2p::web {

struct LoggedEvent {
  std::uint64_t seq = 0;
  std::int64_t unix_ms = 0;
  std::string torrent;  // file name, "" for the node itself
  EventKind kind = EventKind::notice;
  std::string text;
};

class EventLog {
 public:
  static constexpr std::size_t kCapacity = 200;
  // Text longer than this is cut: a page line, not a log file.
  static constexpr std::size_t kMaxTextBytes = 1000;

  const LoggedEvent& add(std::int64_t unix_ms, std::string torrent, EventKind kind, std::string text) {
    if (text.size() > kMaxTextBytes) text.resize(kMaxTextBytes);
    events_.push_back(LoggedEvent{++last_seq_, unix_ms, std::move(torrent), kind, std::move(text)});
    if (events_.size() > kCapacity) events_.pop_front();
    return events_.back();
  }
  const std::deque<LoggedEvent>& events() const { return events_; }

 private:
  std::deque<LoggedEvent> events_;
  std::uint64_t last_seq_ = 0;
};

}  // namespace p2p::web
