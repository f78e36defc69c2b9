// The process's one pool of hashing threads (a thread per core), shared by meta
// creation, source verification, resume checks and the pieces a session
// receives, so that hashing never oversubscribes the cores however many files
// a process serves.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace p2p {

class HashPool {
 public:
  // The process-wide pool, started on first use.
  static HashPool& shared();

  explicit HashPool(unsigned threads);
  ~HashPool();  // finishes queued jobs, then joins
  HashPool(const HashPool&) = delete;
  HashPool& operator=(const HashPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(threads_.size()); }
  // Runs job on a pool thread. Jobs must not throw (catch inside).
  void post(std::function<void()> job);
  // Runs fn(i) for every i in [0, n) on the pool's threads and the calling one;
  // returns when all are done and rethrows the first exception. Safe to call
  // from a pool thread: the caller works through the items itself if the pool is busy.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  void work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace p2p
