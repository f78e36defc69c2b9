// WholeFileVerifier: one thread, reads verified pieces in order and feeds SHA-256.
#include "storage/whole_file_verifier.hpp"

#include <utility>
#include <vector>

namespace p2p {

WholeFileVerifier::WholeFileVerifier(const Meta& meta, const File& file, const Bitfield& already_verified)
    : meta_(meta), file_(file), ready_(already_verified) {
  if (meta_.has_file_hash) thread_ = std::thread([this] { run(); });
}

WholeFileVerifier::~WholeFileVerifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WholeFileVerifier::piece_verified(std::uint32_t piece) {
  if (!meta_.has_file_hash) return;
  {
    std::lock_guard lock(mu_);
    ready_.set(piece);
  }
  cv_.notify_all();
}

void WholeFileVerifier::run() {
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(meta_.piece_size, meta_.size)));
  const std::uint32_t count = meta_.piece_count();
  for (;;) {
    std::uint32_t upto;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || next_ == count || ready_.test(next_); });
      if (stop_ || next_ == count) break;
      upto = next_;
      while (upto < count && ready_.test(upto)) ++upto;
    }
    try {
      for (std::uint32_t i = next_; i < upto; ++i) {
        std::span<std::uint8_t> piece(buf.data(), meta_.piece_length(i));
        file_.read_at(meta_.piece_offset(i), piece);
        hash_.update(piece);
      }
    } catch (...) {
      Done done;
      {
        std::lock_guard lock(mu_);
        failure_ = std::current_exception();
        next_ = count;
        done = std::exchange(done_, nullptr);
      }
      cv_.notify_all();
      if (done) deliver(done);
      break;
    }
    Done done;
    {
      std::lock_guard lock(mu_);
      next_ = upto;
      if (next_ == count) done = std::exchange(done_, nullptr);
    }
    cv_.notify_all();
    if (done) deliver(done);
  }
}

void WholeFileVerifier::deliver(const Done& done) {
  Digest digest{};
  std::exception_ptr error;
  {
    std::lock_guard lock(mu_);
    error = failure_;
    if (!error) digest = result();
  }
  done(digest, error);
}

Digest WholeFileVerifier::result() {
  if (!result_) result_ = hash_.finish();
  return *result_;
}

void WholeFileVerifier::when_done(Done done) {
  if (!meta_.has_file_hash) return done(Digest{}, nullptr);
  {
    std::lock_guard lock(mu_);
    if (next_ != meta_.piece_count()) {
      done_ = std::move(done);
      return;
    }
  }
  deliver(done);
}

Digest WholeFileVerifier::wait_result() {
  if (!meta_.has_file_hash) return Digest{};
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return next_ == meta_.piece_count(); });
  if (failure_) std::rethrow_exception(failure_);
  return result();
}

}  // namespace p2p
