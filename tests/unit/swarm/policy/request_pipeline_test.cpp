// RequestPipeline: requests outstanding follow the connection's measured rate, within bounds.
#include <catch2/catch.hpp>

#include "swarm/policy/request_pipeline.hpp"

using namespace p2p;
using Clock = RequestPipeline::Clock;

TEST_CASE("a new connection starts with two blocks", "[request_pipeline]") {
  RequestPipeline p;
  CHECK(p.depth(16 * 1024) == RequestPipeline::kMinBlocks);
  CHECK(p.depth(256 * 1024) == RequestPipeline::kMinBlocks);
}

TEST_CASE("depth is what the connection delivers in half a second", "[request_pipeline]") {
  RequestPipeline p;
  auto t = Clock::now();
  std::uint64_t total = 0;
  for (int i = 0; i <= 40; ++i) {  // 10 s at 512 KiB/s, sampled every 250 ms
    p.sample(total, t + std::chrono::milliseconds(250 * i));
    total += 128 * 1024;
  }
  CHECK(p.rate() == Approx(512.0 * 1024).epsilon(0.01));
  CHECK(p.depth(16 * 1024) == 16);  // 256 KiB of 16 KiB blocks
}

TEST_CASE("depth is capped at 4 MiB and never below two blocks", "[request_pipeline]") {
  RequestPipeline fast, idle;
  auto t = Clock::now();
  fast.sample(0, t);
  fast.sample(100u << 20, t + std::chrono::seconds(1));  // 100 MiB/s
  CHECK(fast.depth(16 * 1024) == 128);  // 2 MiB: half of what a peer may queue (256 requests)
  CHECK(fast.depth(256 * 1024) == 16);
  idle.sample(0, t);
  idle.sample(0, t + std::chrono::seconds(1));
  CHECK(idle.depth(16 * 1024) == RequestPipeline::kMinBlocks);
  CHECK(idle.depth(8u << 20) == RequestPipeline::kMinBlocks);  // blocks bigger than the cap: still two
}

TEST_CASE("the rate follows a slowdown within a few seconds", "[request_pipeline]") {
  RequestPipeline p;
  auto t = Clock::now();
  std::uint64_t total = 0;
  int i = 0;
  for (; i <= 20; ++i) {
    p.sample(total, t + std::chrono::milliseconds(250 * i));
    total += 1u << 20;  // 4 MiB/s
  }
  double before = p.rate();
  for (int k = 0; k < 12; ++k, ++i) {
    p.sample(total, t + std::chrono::milliseconds(250 * i));
    total += 16 * 1024;  // 64 KiB/s
  }
  CHECK(p.rate() < before / 10);
}
