// How much a connection lets the kernel hold unsent (TCP_NOTSENT_LOWAT; what is in flight is
// not limited): kSeconds of what it sends, at least kMin, at most kMax. Pure: the rate is
// passed in; PeerConnection measures it and sets the socket option every session tick.
//
// Without a limit the kernel autotunes the send buffer to megabytes, written at once: on a
// slow uplink (1 MiB/s) that is seconds of blocks queued ahead of whatever we send next,
// requests and `have`s included, and the kernel, not our writer, decides what goes first.
// N = 32 heterogeneous (bench/netns_swarm_bench.sh, half the peers at R/4), interleaved:
// 15.8-16.3 s with a fixed 32 KiB against 16.2-17.1 s without, 16.1-16.7 s with a fixed
// 1 MiB; a fixed 32 KiB cost 1 GiB over loopback 5-40 % (a wake-up per 32 KiB at
// 800 MB/s), hence the rate's share.
#pragma once
#include <optional>

namespace p2p {

struct UnsentLimit {
  static constexpr double kSeconds = 0.02;
  static constexpr int kMin = 32 * 1024, kMax = 4 * 1024 * 1024;

  // The limit for a connection sending `rate` bytes/s, now at `current` (0: none set yet);
  // nullopt to keep `current` (a change of less than half or double is not worth a call).
  static std::optional<int> next(double rate, int current);
};

}  // namespace p2p
