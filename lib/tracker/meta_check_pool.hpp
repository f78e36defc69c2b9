// Validation of published metas off the event loop: worker threads (SCHED_IDLE,
// so the loop wins any contention for a core at once) take the meta bytes, parse and
// validate them with parse_meta, and hand the verdict back through `post` (which
// runs it on the loop). At most max_queued checks wait or run at once; a
// submission beyond that is refused at once. A meta whose exact bytes passed a
// recent check is recognised by their SHA-256 and not parsed again.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/sha256.hpp"
#include "tracker/meta_check.hpp"

namespace p2p::tracker {

class MetaCheckPool {
 public:
  using Done = std::function<void(MetaCheck)>;
  using Post = std::function<void(std::function<void()>)>;
  MetaCheckPool(std::size_t threads, std::size_t max_queued, std::size_t cache_entries, Post post);
  ~MetaCheckPool();  // finishes the checks queued, then joins
  MetaCheckPool(const MetaCheckPool&) = delete;
  MetaCheckPool& operator=(const MetaCheckPool&) = delete;

  // False, and `done` is never called, when max_queued checks are waiting or running.
  // `text` must stay valid until `done` runs (the caller holds the request's body);
  // the bytes are copied, when they are kept, on the worker.
  bool submit(std::string_view text, Done done);
  std::size_t cache_hits() const;

 private:
  struct Job {
    std::string_view text;
    Done done;
  };
  struct Known {  // a recently accepted meta, without its bytes
    Digest info_hash{};
    std::string name;
    std::uint64_t size = 0, piece_size = 0;
    bool is_private = false;
  };
  void work();
  MetaCheck check(std::string_view text);

  const std::size_t max_queued_, cache_entries_;
  Post post_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::list<Digest> lru_;  // most recent first
  std::unordered_map<Digest, std::pair<Known, std::list<Digest>::iterator>, KeyedHash> known_;
  std::size_t cache_hits_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace p2p::tracker
