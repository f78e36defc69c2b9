// MetaCheckPool: worker threads validating published metas, a bounded queue, and a
// small cache of the bytes that passed.
#include "tracker/meta_check_pool.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>


namespace p2p::tracker {

MetaCheckPool::MetaCheckPool(std::size_t threads, std::size_t max_queued, std::size_t cache_entries, Post post)
    : max_queued_(max_queued), cache_entries_(cache_entries), post_(std::move(post)) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

MetaCheckPool::~MetaCheckPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool MetaCheckPool::submit(std::string_view text, Done done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() + running_ >= max_queued_) return false;
    jobs_.push_back(Job{text, std::move(done)});
  }
  wake_.notify_one();
  return true;
}

std::size_t MetaCheckPool::cache_hits() const {
  std::lock_guard lock(mu_);
  return cache_hits_;
}

void MetaCheckPool::work() {
  // SCHED_IDLE: the thread runs only on a core nothing else wants, and the event
  // loop takes the core back the moment it wakes (a nice value alone still lets the
  // checker hold it for a scheduler slice: milliseconds added to announces).
  // Where SCHED_IDLE is refused, nice +10 (a Linux thread's nice value is its own).
  sched_param idle{};
  if (::sched_setscheduler(0, SCHED_IDLE, &idle) != 0)
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    MetaCheck result = check(job.text);
    {
      std::lock_guard lock(mu_);
      --running_;
    }
    post_([done = std::move(job.done), result = std::move(result)]() mutable { done(std::move(result)); });
  }
}

MetaCheck MetaCheckPool::check(std::string_view text) {
  Digest key = sha256(text);
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      ++cache_hits_;
      const Known& k = it->second.first;
      MetaCheck out;
      out.is_private = k.is_private;
      out.meta = PublishedMeta{k.info_hash, k.name, k.size, k.piece_size, std::string(text)};
      return out;
    }
  }
  MetaCheck out = check_published_meta(std::string(text));
  if (out.meta && cache_entries_ > 0) {
    std::lock_guard lock(mu_);
    if (!known_.count(key)) {
      lru_.push_front(key);
      known_.emplace(key, std::make_pair(Known{out.meta->info_hash, out.meta->name, out.meta->size,
                                               out.meta->piece_size, out.is_private},
                                         lru_.begin()));
      if (known_.size() > cache_entries_) {
        known_.erase(lru_.back());
        lru_.pop_back();
      }
    }
  }
  return out;
}

}  // namespace p2p::tracker
