// Every peer address a swarm knows of, where it came from, and when to dial
// it. Pure bookkeeping (time is passed in); the swarm does the dialling.
// Peers given on the command line get `parallel` connections; peers learned
// from trackers or peer exchange get one. A peer that keeps failing is retried
// with exponential back-off and given up after kMaxConnectAttempts.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "format/wire.hpp"

namespace p2p {

std::string address_label(const wire::PeerAddress& a);  // "1.2.3.4:5" or "[::1]:5"

class PeerDirectory {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Source { command_line, tracker, pex };
  static constexpr std::size_t kMaxKnownPeers = 500;

  explicit PeerDirectory(int parallel) : parallel_(parallel) {}

  // False if already known, or the directory is full.
  bool add(const wire::PeerAddress& a, Source source);
  std::size_t size() const { return peers_.size(); }

  // Addresses to open one more connection to now (one entry per connection).
  std::vector<wire::PeerAddress> to_dial(Clock::time_point now, std::size_t budget) const;
  void dialling(const wire::PeerAddress& a);
  void dial_failed(const wire::PeerAddress& a, const std::string& why, Clock::time_point now);
  void connected(const wire::PeerAddress& a);
  // An established connection ended; `useful` if it delivered data.
  void closed(const wire::PeerAddress& a, bool useful, const std::string& why, Clock::time_point now);
  // The peer told us it will never serve this file (wrong file, version, or it is us).
  void refuse_forever(const wire::PeerAddress& a, const std::string& why);
  // An incoming connection from a peer listening at `a`: counts as connected, no need to dial.
  void incoming(const wire::PeerAddress& a);
  void incoming_closed(const wire::PeerAddress& a);
  void ban(const wire::PeerAddress& a, const std::string& why);

  // True while some peer may still be reached (connected, connecting, or retries left).
  bool any_hope() const;
  // Failures so far, e.g. "1.2.3.4:5: connection refused (gave up)", for the final error.
  std::string failure_summary() const;
  int failures(const wire::PeerAddress& a) const;
  std::string last_error(const wire::PeerAddress& a) const;
  bool first_failure(const wire::PeerAddress& a) const { return failures(a) == 1; }
  bool gave_up(const wire::PeerAddress& a) const;

 private:
  struct Record {
    Source source = Source::pex;
    int failures = 0;
    int open = 0, connecting = 0, incoming = 0;
    Clock::time_point next_try{};
    bool dead = false;
    std::string last_error;
  };
  void backoff(Record& r, const std::string& why, Clock::time_point now);
  int wanted_connections(const Record& r) const;

  int parallel_;
  std::map<wire::PeerAddress, Record> peers_;
};

}  // namespace p2p
