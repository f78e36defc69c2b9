// HashPool: a queue, N threads, and parallel_for over a shared counter.
#include "base/hash_pool.hpp"

#include <openssl/crypto.h>

#include <atomic>
#include <exception>
#include <memory>

namespace p2p {

HashPool& HashPool::shared() {
  // OpenSSL first: its exit-time cleanup then runs after the pool's threads have
  // been joined (statics are destroyed in reverse order), so no hashing thread
  // outlives it and leaves its per-thread state behind.
  static const bool crypto_ready = OPENSSL_init_crypto(0, nullptr) == 1;
  static HashPool pool(std::max(1u, std::thread::hardware_concurrency()));
  (void)crypto_ready;
  return pool;
}

HashPool::HashPool(unsigned threads) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HashPool::~HashPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void HashPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void HashPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        OPENSSL_thread_stop();  // frees this thread's OpenSSL state (hashing), or it leaks at exit
        return;  // stopping and drained
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void HashPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  // Shared with helper jobs that may start after this call returned (the pool was
  // busy): they find no item left and touch nothing else.
  struct State {
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable done_cv;
    std::size_t active = 0;  // helpers inside the loop
    std::exception_ptr failure;
  };
  auto st = std::make_shared<State>();
  auto run = [st, &fn, n](bool helper) {
    if (helper) {
      std::lock_guard lock(st->mu);
      if (st->next.load() >= n) return;  // nothing left: fn may be gone already
      ++st->active;
    }
    for (std::size_t i = st->next++; i < n; i = st->next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(st->mu);
        if (!st->failure) st->failure = std::current_exception();
        st->next = n;  // stop handing out items
      }
    }
    if (helper) {
      std::lock_guard lock(st->mu);
      --st->active;
      st->done_cv.notify_all();
    }
  };
  std::size_t helpers = std::min<std::size_t>(size(), n) - 1;
  for (std::size_t h = 0; h < helpers; ++h) post([run] { run(true); });
  run(false);
  std::unique_lock lock(st->mu);
  st->done_cv.wait(lock, [&] { return st->active == 0; });
  if (st->failure) std::rethrow_exception(st->failure);
}

}  // namespace p2p
