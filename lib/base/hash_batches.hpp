// One owner's jobs for the HashPool (a torrent's received pieces), handed over in
// batches: a pool thread that takes the queue's jobs keeps taking them while any
// are left (one wake-up for a burst of pieces, not one per piece), more threads
// join only while jobs wait behind the ones draining (at most the pool's size),
// and the replies go back to the owner's thread in one posted call per burst.
// On a tree of 20,000 small files a post and a wake-up per piece each way cost
// ~4 futex calls a piece.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "base/hash_pool.hpp"

namespace p2p {

class HashBatches {
 public:
  using Reply = std::function<void()>;  // runs on the owner's thread
  using Job = std::function<Reply()>;   // runs on a pool thread; must not throw
  // Runs its argument on the owner's thread later (asio::post to its io_context).
  using Poster = std::function<void(std::function<void()>)>;

  HashBatches(HashPool& pool, Poster post);
  // Owner's thread or any other. Jobs run in parallel, in no particular order;
  // replies run in the order their jobs finished.
  void submit(Job job);
  // Replies posted to the owner's thread so far (bursts), for tests.
  std::size_t deliveries() const;

 private:
  struct State {
    HashPool* pool;
    Poster post;
    std::mutex mu;
    std::deque<Job> queue;
    std::vector<Reply> replies;
    unsigned draining = 0;           // pool threads inside drain()
    bool delivery_posted = false;    // a call to deliver() is on its way to the owner
    std::size_t deliveries = 0;
  };
  static void drain(const std::shared_ptr<State>& st);
  static void deliver(const std::shared_ptr<State>& st);

  std::shared_ptr<State> st_;  // shared with the pool threads and the posted deliveries
};

}  // namespace p2p
