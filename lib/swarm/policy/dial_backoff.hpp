// When an address whose dial (or connection) failed may be dialled again, and when
// to stop trying it. Pure: every decision takes the time it is made at, so tests
// drive a clock of their own.
//
// Two schedules, by how well the address is vouched for:
//
// * vouched (the user's --peer / --host, a tracker's peer list): 0.5 s, 1 s, 2 s …
//   capped at kVouchedMaxInterval, never given up here (the torrent decides with
//   --give-up-after). These are someone's word that a member listens there: a seeder
//   that restarts, or a short outage, must not end a long download, and a tracker
//   only lists members that announced within its interval. (libtorrent dials a
//   user-added peer at once, outside its peer list's reconnect rules, and a tracker
//   listing a peer again lowers its fail count.)
// * hint (peer exchange, LAN announces): anyone can claim these, so a failure waits
//   kHintFirstInterval (60 s: libtorrent waits min_reconnect_time, 60 s, times a
//   factor growing with the fail count) and doubles from there, and after
//   kHintAttempts failures the address is given up (libtorrent's max_failcount is 3 too): one dial per advertised address in its first minute,
//   three in seven, never a burst. A hint that a tracker or the user later vouches
//   for moves to the vouched schedule (PeerDirectory::add).
#pragma once
#include <chrono>

namespace p2p {

class DialBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Trust { vouched, hint };

  static constexpr auto kVouchedFirstInterval = std::chrono::milliseconds(500);
  static constexpr auto kVouchedMaxInterval = std::chrono::seconds(30);
  static constexpr auto kHintFirstInterval = std::chrono::seconds(60);
  static constexpr auto kHintMaxInterval = std::chrono::seconds(600);
  static constexpr int kHintAttempts = 3;

  // How long to wait after the `failures`-th failure in a row (failures >= 1).
  static Clock::duration interval(Trust trust, int failures);
  // When an address that failed for the `failures`-th time at `failed_at` may be tried again.
  static Clock::time_point next_try(Trust trust, int failures, Clock::time_point failed_at) {
    return failed_at + interval(trust, failures);
  }
  // Whether an address with this many failures in a row is not tried any more.
  static bool exhausted(Trust trust, int failures) { return trust == Trust::hint && failures >= kHintAttempts; }
};

}  // namespace p2p
