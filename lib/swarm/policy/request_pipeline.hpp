// How many bytes of requests to keep outstanding on one connection: what the link
// delivers in one round trip plus kQueueSeconds, measured on the connection itself.
// Pure (time is passed in).
//
// Why by measured rate and round trip, not a constant: a window is what keeps a link
// busy, and that is rate x round trip. A fixed 4 MiB per connection (the cap before this)
// held loopback at full speed but gave 0.27 of it over 200 ms (4 MiB / 0.2 s); libtorrent
// keeps 3 s of rate in flight for the same reason. The queue beyond the round trip keeps
// the peer's send queue from running dry between two of our reads and lets the window
// grow: with W = rate x (rtt + q), a window-limited link delivers W / rtt, more than the
// rate it was sized on, so the next window is larger, until the link, a rate cap or the
// peer's upload is the limit (RateMeter: a rise is followed at once). Why short anyway: a short queue
// keeps requests fresh (what is asked for is what is rarest now), and the session's piece
// buffer budget, shared by every connection, is spent on peers that deliver.
//
// A new connection starts in slow start: its window grows by every block that arrives
// (doubling each round trip) until a rate sample grows less than kSlowStartGrowth, so a
// long link is filled in a few round trips instead of a few seconds of samples. It starts
// from two blocks, or from kLongLinkFirstWindow once its round trip is known to be long
// (long_link.hpp; a dialled connection knows it from the handshake, before its first
// request). From two blocks of 256 KiB, a 100 ms link took seven doublings (0.7 s) to
// carry what 500 MiB/s needs in flight; the round trips, not the link, set the first
// second of a transfer. Measured, 1 GiB through a 50 ms-each-way relay on loopback
// (medians of 4): 3.14 s from two blocks, 2.72 s from 4 MiB, 2.62-2.66 s from 8 or 16
// MiB (the seeder's initial-seeding window then limits); at 200 ms 4.70 -> 4.05 s. Why
// not on a LAN too: there a doubling costs a millisecond, and a first window of 16
// blocks to every peer of a loopback swarm let early peers take pieces the swarm's
// spreading relies on (e2e.swarm_gossip failed once). Why not larger: requests to a peer
// of unknown speed wait there, and 4 MiB is what 40 MiB/s keeps in flight at 100 ms. Why
// shared by the torrent's connections (4 MiB / connections, at least two blocks): with
// several, their first windows add up, and a round trip can be long only because an
// uploader's capped link queues (tbf's 100 ms queue in the netns swarm bench): 4 MiB to
// each of 31 such peers parked pieces at slow uploaders: N = 32 heterogeneous took
// 16.4-17.2 -> 17.6-18.9 s, homogeneous 10.5-11.0 -> 10.9-11.8 s (interleaved rounds).
//
// The round trip is the smallest measured: a dialled connection's handshake exchange, and
// the arrival of the first block requested when nothing else was outstanding (nothing
// queued ahead of it at the peer; that block itself, not whichever arrives first); a
// seeder measures it from a `have` it reveals to the first request for that piece
// (Torrent::show). Nothing bounds the window but the peer's request limit (its
// handshake's max_requests) and the session's memory budget (PieceBufferPool).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "swarm/policy/long_link.hpp"
#include "swarm/policy/rate_meter.hpp"

namespace p2p {

class RequestPipeline {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kQueueSeconds = 0.5;
  static constexpr std::size_t kMinBlocks = 2;
  static constexpr std::size_t kLongLinkFirstWindow = 4u << 20;  // bytes

  // Slow start ends when a sample's rate is less than this much above the previous one.
  static constexpr double kSlowStartGrowth = 1.25;

  // `received`: the connection's payload bytes so far (a running total).
  void sample(std::uint64_t received, Clock::time_point now) {
    double before = rate_.rate();
    rate_.sample(received, now);
    if (slow_start_ && before > 0 && rate_.rate() < kSlowStartGrowth * before) slow_start_ = false;
  }
  // A round trip measured on this connection (seconds); the smallest is kept.
  void round_trip(double seconds) {
    if (seconds > 0 && (rtt_ <= 0 || seconds < rtt_)) rtt_ = seconds;
  }
  // Requests went out while none was outstanding, the first for block `first` (any key
  // that names a block: piece and offset): its arrival is one round trip (plus the
  // block's own transfer) after `now`.
  void requested_when_idle(Clock::time_point now, std::uint64_t first) {
    idle_request_ = now;
    idle_block_ = first;
  }
  // Block `block` of `len` bytes arrived. In slow start the window grows by it (doubling
  // each round trip, as TCP's does), ahead of the rate samples that size it afterwards.
  // Only the block asked for when idle measures a round trip: a block of a request that a
  // choke dropped can still arrive just after new requests went out (it was on its way),
  // and the smallest sample is kept for good (one such gave 9 ms on a 100 ms link, and the
  // link ran at the 8 MiB budget's 75 MiB/s for the rest of a 1 GiB transfer).
  void block_arrived(Clock::time_point now, std::uint32_t len, std::uint64_t block) {
    if (slow_start_) slow_start_bytes_ += len;
    if (idle_request_ == Clock::time_point{} || block != idle_block_) return;
    round_trip(std::chrono::duration<double>(now - idle_request_).count());
    idle_request_ = {};
  }

  double rate() const { return rate_.rate(); }       // bytes/s
  double round_trip() const { return rtt_; }         // seconds, 0 if not measured yet
  double bandwidth_delay() const { return rate() * rtt_; }  // bytes the link holds in flight

  // Requests to keep outstanding, for blocks of `block_len` bytes, to a peer that queues at
  // most `peer_max_requests` (kept below it: more is a flood to it). `connections`: how
  // many the torrent has; they share a long link's first window.
  std::size_t depth(std::uint32_t block_len, std::size_t peer_max_requests, std::size_t connections = 1) const {
    std::size_t block = std::max<std::uint32_t>(1, block_len);
    std::size_t long_first = long_round_trip(rtt_) ? kLongLinkFirstWindow / std::max<std::size_t>(1, connections) : 0;
    double first = static_cast<double>(std::max(kMinBlocks * block, long_first));
    double bytes = std::max(rate() * (rtt_ + kQueueSeconds),
                            slow_start_ ? first + static_cast<double>(slow_start_bytes_) : 0.0);
    std::size_t most = std::max(kMinBlocks, peer_max_requests - peer_max_requests / 8);
    double blocks = std::ceil(bytes / static_cast<double>(block));
    if (!(blocks < static_cast<double>(most))) return most;
    return std::max(kMinBlocks, static_cast<std::size_t>(blocks));
  }

 private:
  RateMeter rate_;
  bool slow_start_ = true;               // until the rate stops growing
  std::uint64_t slow_start_bytes_ = 0;   // what arrived during slow start
  double rtt_ = 0;
  Clock::time_point idle_request_{};
  std::uint64_t idle_block_ = 0;
};

}  // namespace p2p
