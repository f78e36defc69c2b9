#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/hash_batches.hpp"

using namespace p2p;

namespace {

// The owner's thread, played by the test: posted calls queue here until run.
struct OwnerQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> calls;
  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu);
      calls.push_back(std::move(fn));
    }
    cv.notify_all();
  }
  // Runs posted calls until `done` holds (or 10 s pass); returns whether it held.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu);
        if (!cv.wait_until(lock, deadline, [&] { return !calls.empty(); })) return done();
        fn = std::move(calls.front());
        calls.pop_front();
      }
      fn();
    }
    return true;
  }
};

}  // namespace

TEST_CASE("hash batches: every job runs once and its reply runs once, on the owner's thread", "[hash_batches]") {
  HashPool pool(2);
  OwnerQueue owner;
  HashBatches batches(pool, [&](std::function<void()> fn) { owner.post(std::move(fn)); });
  constexpr int kJobs = 2000;
  std::vector<std::atomic<int>> ran(kJobs);
  std::vector<int> replied(kJobs, 0);  // touched only by the owner's thread
  int replies = 0;
  auto owner_id = std::this_thread::get_id();
  bool reply_elsewhere = false;
  for (int i = 0; i < kJobs; ++i)
    batches.submit([&, i]() -> HashBatches::Reply {
      ++ran[i];
      return [&, i] {
        if (std::this_thread::get_id() != owner_id) reply_elsewhere = true;
        ++replied[i];
        ++replies;
      };
    });
  REQUIRE(owner.run_until([&] { return replies == kJobs; }));
  for (int i = 0; i < kJobs; ++i) {
    CHECK(ran[i] == 1);
    CHECK(replied[i] == 1);
  }
  CHECK_FALSE(reply_elsewhere);
  // Submitted faster than they are taken, the replies come back in bursts, not one post each.
  CHECK(batches.deliveries() < kJobs);
}

TEST_CASE("hash batches: jobs wait behind busy threads instead of each waking one", "[hash_batches]") {
  HashPool pool(2);
  OwnerQueue owner;
  HashBatches batches(pool, [&](std::function<void()> fn) { owner.post(std::move(fn)); });
  // The first job holds its thread until released: later jobs queue behind it, and at
  // most the pool's two threads ever run jobs of this owner at once.
  std::mutex gate;
  std::unique_lock hold(gate);
  std::atomic<int> inside{0}, most{0}, done{0};
  int replies = 0;
  auto job = [&](bool first) {
    return [&, first]() -> HashBatches::Reply {
      int now = ++inside;
      for (int m = most; now > m && !most.compare_exchange_weak(m, now);) {}
      if (first) std::lock_guard wait(gate);
      --inside;
      ++done;
      return [&] { ++replies; };
    };
  };
  batches.submit(job(true));
  for (int i = 0; i < 200; ++i) batches.submit(job(false));
  // The second thread works through the other 200 while the first is held.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done < 200 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  CHECK(done == 200);
  hold.unlock();
  REQUIRE(owner.run_until([&] { return replies == 201; }));
  CHECK(most <= 2);
  // The 200 replies waited for the owner together: one post, and one more at most for the first job's.
  CHECK(batches.deliveries() <= 2);
}
