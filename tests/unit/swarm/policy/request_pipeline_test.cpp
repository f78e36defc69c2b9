// RequestPipeline: requests outstanding follow the connection's measured rate and round
// trip, below the peer's request limit; no fixed cap.
#include <catch2/catch.hpp>

#include "swarm/policy/request_pipeline.hpp"

using namespace p2p;
using Clock = RequestPipeline::Clock;
using std::chrono::milliseconds;

namespace {
constexpr std::size_t kPeerMax = 2048;
// Feeds `seconds` of a steady `rate` (bytes/s), sampled every 250 ms.
void steady(RequestPipeline& p, Clock::time_point& t, std::uint64_t& total, double rate, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    p.sample(total, t);
    t += milliseconds(250);
    total += static_cast<std::uint64_t>(rate / 4);
  }
}
}  // namespace

TEST_CASE("a new connection starts with two blocks", "[request_pipeline]") {
  RequestPipeline p;
  CHECK(p.depth(16 * 1024, kPeerMax) == RequestPipeline::kMinBlocks);
  CHECK(p.depth(256 * 1024, kPeerMax) == RequestPipeline::kMinBlocks);
}

TEST_CASE("a connection known to cross a long link starts from 4 MiB shared by the torrent's connections; a LAN's from two blocks", "[request_pipeline]") {
  RequestPipeline lan, wan, edge;
  lan.round_trip(0.002);
  wan.round_trip(0.1);
  edge.round_trip(kLongRoundTrip);
  CHECK(lan.depth(256 * 1024, kPeerMax) == RequestPipeline::kMinBlocks);
  CHECK(wan.depth(256 * 1024, kPeerMax) == 16);   // 4 MiB of 256 KiB blocks
  CHECK(edge.depth(256 * 1024, kPeerMax) == 16);
  CHECK(wan.depth(16 * 1024, kPeerMax) == 256);   // bytes, not blocks
  CHECK(wan.depth(8u << 20, kPeerMax) == RequestPipeline::kMinBlocks);  // two blocks are more
  CHECK(wan.depth(256 * 1024, 8) == 7);           // still below the peer's request limit
  CHECK(wan.depth(256 * 1024, kPeerMax, 4) == 4);  // shared by a torrent's 4 connections: 1 MiB each
  CHECK(wan.depth(256 * 1024, kPeerMax, 31) == RequestPipeline::kMinBlocks);  // never below two blocks
  // Slow start grows it by every block, as from two blocks.
  auto t = Clock::now();
  for (int i = 0; i < 4; ++i) wan.block_arrived(t, 256 * 1024, static_cast<std::uint64_t>(i));
  CHECK(wan.depth(256 * 1024, kPeerMax) == 20);
}

TEST_CASE("without a round trip measured, depth is half a second of the rate", "[request_pipeline]") {
  RequestPipeline p;
  auto t = Clock::now();
  std::uint64_t total = 0;
  steady(p, t, total, 512.0 * 1024, 41);
  CHECK(p.rate() == Approx(512.0 * 1024).epsilon(0.01));
  CHECK(p.depth(16 * 1024, kPeerMax) == 16);  // 256 KiB of 16 KiB blocks
}

TEST_CASE("the window holds one round trip of the rate plus the queue", "[request_pipeline]") {
  RequestPipeline p;
  auto t = Clock::now();
  std::uint64_t total = 0;
  p.round_trip(0.2);
  steady(p, t, total, 40.0 * 1024 * 1024, 9);  // 40 MiB/s over 200 ms
  CHECK(p.bandwidth_delay() == Approx(8.0 * 1024 * 1024).epsilon(0.01));
  // 40 MiB/s x 0.7 s = 28 MiB: 448 blocks of 64 KiB, far above the old fixed 4 MiB (64).
  CHECK(p.depth(64 * 1024, kPeerMax) == 448);
}

TEST_CASE("the smallest round trip is kept; an idle request's block measures one", "[request_pipeline]") {
  RequestPipeline p;
  CHECK(p.round_trip() == 0);
  auto t = Clock::now();
  p.requested_when_idle(t, 7);
  p.block_arrived(t + milliseconds(9), 1, 3);  // another block (on its way before): no sample
  CHECK(p.round_trip() == 0);
  p.block_arrived(t + milliseconds(120), 1, 7);
  CHECK(p.round_trip() == Approx(0.12));
  p.block_arrived(t + milliseconds(500), 1, 7);  // not after an idle request: no sample
  CHECK(p.round_trip() == Approx(0.12));
  p.round_trip(0.3);
  CHECK(p.round_trip() == Approx(0.12));
  p.round_trip(0.05);
  CHECK(p.round_trip() == Approx(0.05));
}

TEST_CASE("a window-limited link grows the window every sample", "[request_pipeline]") {
  // A link of 200 ms that could carry 100 MiB/s, limited only by what is in flight:
  // each 250 ms it delivers window / rtt.
  RequestPipeline p;
  p.round_trip(0.2);
  auto t = Clock::now();
  std::uint64_t total = 0;
  const std::uint32_t block = 64 * 1024;
  p.sample(total, t);
  std::size_t before = p.depth(block, kPeerMax);
  int ticks = 0;
  for (; ticks < 40; ++ticks) {
    double window = static_cast<double>(p.depth(block, kPeerMax)) * block;
    double rate = std::min(window / 0.2, 100.0 * 1024 * 1024);
    t += milliseconds(250);
    total += static_cast<std::uint64_t>(rate / 4);
    p.sample(total, t);
    if (p.rate() >= 99.0 * 1024 * 1024) break;
  }
  CHECK(p.depth(block, kPeerMax) > before);
  CHECK(ticks < 12);  // full speed within 3 s, from two blocks
  CHECK(p.rate() >= 99.0 * 1024 * 1024);
}

TEST_CASE("depth stays below the peer's request limit and never below two blocks", "[request_pipeline]") {
  RequestPipeline fast, idle;
  auto t = Clock::now();
  fast.sample(0, t);
  fast.sample(1000u << 20, t + std::chrono::seconds(1));  // 1000 MiB/s
  CHECK(fast.depth(16 * 1024, kPeerMax) == kPeerMax - kPeerMax / 8);
  CHECK(fast.depth(16 * 1024, 256) == 224);  // a peer that did not say: 256, kept below
  idle.sample(0, t);
  idle.sample(0, t + std::chrono::seconds(1));
  CHECK(idle.depth(16 * 1024, kPeerMax) == RequestPipeline::kMinBlocks);
  CHECK(idle.depth(8u << 20, kPeerMax) == RequestPipeline::kMinBlocks);
}

TEST_CASE("the rate rises at once and follows a slowdown within a few seconds", "[request_pipeline]") {
  RequestPipeline p;
  auto t = Clock::now();
  std::uint64_t total = 0;
  steady(p, t, total, 64.0 * 1024, 4);
  steady(p, t, total, 4.0 * 1024 * 1024, 2);
  CHECK(p.rate() == Approx(4.0 * 1024 * 1024).epsilon(0.01));
  double before = p.rate();
  steady(p, t, total, 64.0 * 1024, 13);
  CHECK(p.rate() < before / 10);
}

TEST_CASE("slow start: the window grows by every block until the rate stops growing", "[request_pipeline]") {
  RequestPipeline p;
  const std::uint32_t block = 64 * 1024;
  auto t = Clock::now();
  CHECK(p.depth(block, kPeerMax) == 2);
  for (int i = 0; i < 2; ++i) p.block_arrived(t, block, 0);
  CHECK(p.depth(block, kPeerMax) == 4);  // two arrived: two more asked for (doubling per round trip)
  for (int i = 0; i < 4; ++i) p.block_arrived(t, block, 0);
  CHECK(p.depth(block, kPeerMax) == 8);
  std::uint64_t total = 0;
  steady(p, t, total, 1024.0 * 1024, 3);  // the rate stays at 1 MiB/s: slow start ends
  p.block_arrived(t, block, 0);
  CHECK(p.depth(block, kPeerMax) == 8);   // 1 MiB/s x 0.5 s: the rate sizes it again
}
