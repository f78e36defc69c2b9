// StateSaver: one background thread writing state files, newest content per path.
#include "storage/state_saver.hpp"

#include <utility>

#include "base/file_io.hpp"

namespace p2p {

StateSaver& StateSaver::shared() {
  static StateSaver saver;
  return saver;
}

StateSaver::~StateSaver() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StateSaver::rethrow_error(Entry& e) {
  if (!e.error) return;
  auto error = std::exchange(e.error, nullptr);
  std::rethrow_exception(error);
}

void StateSaver::save(const std::filesystem::path& path, std::string content) {
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[path];
    rethrow_error(e);
    e.content = std::move(content);
    if (!e.queued) {
      e.queued = true;
      order_.push_back(path);
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { work(); });
  }
  cv_.notify_all();
}

void StateSaver::wait(const std::filesystem::path& path) {
  std::unique_lock lock(mu_);
  // Looked up afresh each time: the saver forgets a path once its last write succeeds.
  cv_.wait(lock, [&] {
    auto it = entries_.find(path);
    return it == entries_.end() || (!it->second.queued && !it->second.writing);
  });
  auto it = entries_.find(path);
  if (it == entries_.end()) return;
  auto error = std::exchange(it->second.error, nullptr);
  entries_.erase(it);
  if (error) std::rethrow_exception(error);
}

void StateSaver::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !order_.empty(); });
    if (order_.empty()) return;  // stopping, and everything queued is written
    std::filesystem::path path = std::move(order_.front());
    order_.pop_front();
    Entry& e = entries_[path];  // map nodes stay put while unlocked
    std::string content = std::move(e.content);
    e.queued = false;
    e.writing = true;
    lock.unlock();
    std::exception_ptr error;
    try {
      write_file_atomically(path, content);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    e.writing = false;
    if (error) e.error = error;
    else if (!e.queued) entries_.erase(path);  // nothing more of it: forget it
    cv_.notify_all();
  }
}

}  // namespace p2p
