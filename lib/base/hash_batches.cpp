// HashBatches: a queue drained by up to pool-size threads, replies posted per burst.
#include "base/hash_batches.hpp"

namespace p2p {

HashBatches::HashBatches(HashPool& pool, Poster post) : st_(std::make_shared<State>()) {
  st_->pool = &pool;
  st_->post = std::move(post);
}

void HashBatches::submit(Job job) {
  bool start = false;
  {
    std::lock_guard lock(st_->mu);
    st_->queue.push_back(std::move(job));
    // A new thread only when jobs wait that no draining thread is about to take.
    if (st_->draining < st_->pool->size() && st_->queue.size() > st_->draining) {
      ++st_->draining;
      start = true;
    }
  }
  if (start) st_->pool->post([st = st_] { drain(st); });
}

void HashBatches::drain(const std::shared_ptr<State>& st) {
  std::unique_lock lock(st->mu);
  while (!st->queue.empty()) {
    Job job = std::move(st->queue.front());
    st->queue.pop_front();
    lock.unlock();
    Reply reply = job();
    lock.lock();
    st->replies.push_back(std::move(reply));
    if (!st->delivery_posted) {
      st->delivery_posted = true;
      ++st->deliveries;
      lock.unlock();
      st->post([st] { deliver(st); });
      lock.lock();
    }
  }
  --st->draining;
}

void HashBatches::deliver(const std::shared_ptr<State>& st) {
  std::vector<Reply> replies;
  {
    std::lock_guard lock(st->mu);
    replies.swap(st->replies);
    st->delivery_posted = false;
  }
  for (auto& r : replies) r();
}

std::size_t HashBatches::deliveries() const {
  std::lock_guard lock(st_->mu);
  return st_->deliveries;
}

}  // namespace p2p
