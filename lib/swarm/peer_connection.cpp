// PeerConnection: a reader coroutine that frames and dispatches, and a writer
// coroutine that drains control messages first, then queued uploads.
#include "swarm/peer_connection.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/address.hpp"
#include "base/limits.hpp"
#include "net/use_tuple.hpp"
#include "swarm/policy/unsent_limit.hpp"

namespace p2p {

namespace {
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kMaxBatch = 64;  // frames gathered into one write
}  // namespace

PeerConnection::PeerConnection(PeerStream stream, ConnectionHandler& handler, std::uint64_t id,
                               std::optional<wire::Handshake> ours)
    : stream_(std::move(stream)), handler_(&handler), id_(id), outgoing_(ours.has_value()), ours_(std::move(ours)),
      wake_(stream_.get_executor()), rbuf_(kReadBuffer) {
  auto& socket = stream_.socket();
  std::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (!ec) {
    remote_ip_ = ep.address().to_string();
    label_ = format_host_port(remote_ip_, ep.port());
  } else {
    label_ = "?";
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  socket.native_non_blocking(true, ec);  // sendfile must never block the io thread
  set_unsent_limit(UnsentLimit::kMin);
}

void PeerConnection::set_unsent_limit(int bytes) {
  unsent_limit_ = bytes;
  auto& socket = stream_.socket();
  if (socket.is_open())
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent_limit_, sizeof unsent_limit_);
}

void PeerConnection::tune_unsent_limit(Clock::time_point now) {
  double dt = std::chrono::duration<double>(now - unsent_mark_time_).count();
  if (dt < 0.2) return;
  double rate = static_cast<double>(payload_sent_ - unsent_mark_bytes_) / dt;
  unsent_mark_time_ = now;
  unsent_mark_bytes_ = payload_sent_;
  if (auto limit = UnsentLimit::next(rate, unsent_limit_)) set_unsent_limit(*limit);
}

double PeerConnection::sample_download_rate() {
  auto now = Clock::now();
  double dt = std::chrono::duration<double>(now - rate_mark_time_).count();
  double rate = dt > 0 ? static_cast<double>(payload_received_ - rate_mark_bytes_) / dt : 0;
  rate_mark_time_ = now;
  rate_mark_bytes_ = payload_received_;
  return rate;
}

asio::awaitable<void> PeerConnection::throttle(RateLimiter* limiter, std::uint64_t bytes) {
  if (!limiter || limiter->unlimited()) co_return;
  auto wait = limiter->reserve(bytes, Clock::now());
  if (wait.count() <= 0) co_return;
  asio::steady_timer t(stream_.get_executor(), wait);
  co_await t.async_wait(kUseTuple);
}

void PeerConnection::start() {
  auto self = shared_from_this();
  asio::co_spawn(stream_.get_executor(), [self]() -> asio::awaitable<void> { co_await self->run(); },
                 [self](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     self->close(CloseReason::internal_error, ex.what());
                   }
                 });
}

void PeerConnection::wake_writer() {
  urgent_ = true;
  wake_.cancel();
}

void PeerConnection::hold_until(Clock::time_point due) {
  if (soon_due_ == Clock::time_point{} || due < soon_due_) {
    soon_due_ = due;
    wake_.cancel();  // the writer re-arms its wait for the new time
  }
}

void PeerConnection::send_have(std::uint32_t piece, Clock::duration hold) {
  if (!open_) return;
  haves_.push_back(piece);
  if (hold <= Clock::duration::zero()) wake_writer();
  else hold_until(Clock::now() + hold);
}

void PeerConnection::frame_haves() {
  if (haves_.empty()) return;
  if (!theirs_.haves) {
    for (std::uint32_t piece : haves_) control_.push_back(OutFrame{wire::encode(wire::Have{piece}), {}});
  } else {
    for (std::size_t i = 0; i < haves_.size(); i += limits::kMaxHavesPerFrame) {
      auto end = haves_.begin() + static_cast<std::ptrdiff_t>(std::min(haves_.size(), i + limits::kMaxHavesPerFrame));
      control_.push_back(OutFrame{wire::encode(wire::Haves{{haves_.begin() + static_cast<std::ptrdiff_t>(i), end}}), {}});
    }
  }
  haves_.clear();
}

void PeerConnection::send(const wire::Message& m) {
  if (!open_) return;
  control_.push_back(OutFrame{wire::encode(m), {}});
  wake_writer();
}

void PeerConnection::send_with_payload(const wire::Message& m, std::vector<std::uint8_t> payload) {
  if (!open_) return;
  control_.push_back(OutFrame{wire::encode(m, static_cast<std::uint32_t>(payload.size())), std::move(payload)});
  wake_writer();
}

bool PeerConnection::queue_upload(const wire::Request& r) {
  if (uploads_.size() >= limits::kMaxQueuedRequestsPerPeer) return false;
  uploads_.push_back(r);
  wake_writer();
  return true;
}

void PeerConnection::cancel_upload(const wire::Request& r) {
  for (auto it = uploads_.begin(); it != uploads_.end(); ++it)
    if (*it == r) {
      uploads_.erase(it);
      return;
    }
}

void PeerConnection::close(CloseReason reason, const std::string& detail) {
  if (!open_) return;
  open_ = false;
  close_reason_ = reason;
  close_detail_ = detail;
  stream_.close();
  wake_.cancel();
  if (!closed_notified_) {
    closed_notified_ = true;
    handler_->on_closed(*this, reason, detail);
  }
}

asio::awaitable<void> PeerConnection::run() {
  auto self = shared_from_this();
  // TLS first for a private swarm (or an incoming TLS client): nothing of the peer
  // protocol, not even the handshake frame, is sent before the key is proven.
  PeerStream::Started started = co_await stream_.start();
  if (!open_) co_return;
  if (started.refusal != StreamRefusal::none) {
    close(started.refusal == StreamRefusal::closed ? CloseReason::peer_closed : CloseReason::tls_refused,
          started.detail);
    co_return;
  }
  if (ours_) {  // the dialling side speaks first
    handshake_sent_ = Clock::now();
    send(*ours_);
  }
  asio::co_spawn(stream_.get_executor(), [self]() -> asio::awaitable<void> { co_await self->writer(); },
                 asio::detached);  // writer catches its own errors
  std::string violation;
  try {
    co_await reader();
  } catch (const wire::ProtocolError& e) {
    violation = e.what();
  }
  if (!violation.empty() && open_) {
    // Tell them why before hanging up: give the writer a moment to flush it.
    control_.push_back(OutFrame{wire::encode(wire::ErrorMsg{"protocol_error", violation}), {}});
    uploads_.clear();
    haves_.clear();
    wake_writer();
    asio::steady_timer t(stream_.get_executor(), std::chrono::milliseconds(100));
    co_await t.async_wait(kUseTuple);
    close(CloseReason::protocol_violation, violation);
  }
}

asio::awaitable<bool> PeerConnection::read_exact(std::span<std::uint8_t> out) {
  std::size_t have = std::min(out.size(), rend_ - rpos_);
  std::copy_n(rbuf_.data() + rpos_, have, out.data());
  rpos_ += have;
  std::size_t need = out.size() - have;
  if (need == 0) co_return true;
  if (need >= kReadBuffer / 2) {
    // Large payloads go straight into their destination: no extra copy.
    if (co_await stream_.read(asio::buffer(out.data() + have, need))) co_return false;
    last_received_ = Clock::now();
    co_return true;
  }
  rpos_ = rend_ = 0;
  while (rend_ < need) {
    auto [ec, n] = co_await stream_.read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_));
    if (ec) co_return false;
    rend_ += n;
    last_received_ = Clock::now();
  }
  std::copy_n(rbuf_.data(), need, out.data() + have);
  rpos_ = need;
  co_return true;
}

asio::awaitable<void> PeerConnection::reader() {
  std::string header;
  std::vector<std::uint8_t> small_payload;
  std::vector<std::uint8_t> discard;
  while (open_) {
    std::array<std::uint8_t, wire::kPrefixBytes> prefix{};
    if (!co_await read_exact(prefix)) break;
    std::uint32_t n = wire::decode_header_length(prefix);
    header.resize(n);
    if (!co_await read_exact(std::span(reinterpret_cast<std::uint8_t*>(header.data()), n))) break;
    wire::Header h = wire::decode_header(header);

    if (!handshaken_) {
      if (auto* e = std::get_if<wire::ErrorMsg>(&h.message); e && h.payload_len == 0) {
        // Refused before a handshake (unknown file, banned, full): the handler decides what it means.
        handler_->on_message(*this, h.message, {});
        if (open_) close(CloseReason::peer_refused, fmt::format("{}: {}", e->code, e->message));
        co_return;
      }
      auto* hs = std::get_if<wire::Handshake>(&h.message);
      if (!hs) throw wire::ProtocolError(fmt::format("expected a handshake, got {}", wire::type_name(h.message)));
      theirs_ = *hs;
      if (outgoing_ && handshake_sent_ != Clock::time_point{})
        handshake_rtt_ = std::chrono::duration<double>(Clock::now() - handshake_sent_).count();
      HandshakeAnswer answer = handler_->on_handshake(*this, *hs);
      if (answer.refusal) {
        co_await refuse(*answer.refusal);
        co_return;
      }
      if (!outgoing_ && open_) {
        // Our handshake goes before anything the handler queued on accepting (its bitfield).
        control_.push_front(OutFrame{wire::encode(answer.ours), {}});
        wake_writer();
      }
      handshaken_ = true;
      continue;
    }
    if (std::holds_alternative<wire::Handshake>(h.message)) throw wire::ProtocolError("second handshake");

    if (auto* p = std::get_if<wire::Piece>(&h.message)) {
      co_await throttle(down_limit_, h.payload_len);  // TCP flow control slows the sender meanwhile
      if (!open_) break;
      std::span<std::uint8_t> dest = handler_->block_destination(*this, *p, h.payload_len);
      bool stored = !dest.empty();
      if (!stored) {
        discard.resize(h.payload_len);
        dest = discard;
      }
      if (!co_await read_exact(dest)) break;
      payload_received_ += h.payload_len;
      last_block_ = Clock::now();
      if (stored) last_payload_ = last_block_;  // a block we asked for (junk sent unasked does not count)
      if (!open_) break;
      handler_->on_block(*this, BlockRef{p->piece, p->begin, h.payload_len}, stored);
      continue;
    }
    small_payload.resize(h.payload_len);
    if (!co_await read_exact(small_payload)) break;
    if (!open_) break;
    handler_->on_message(*this, h.message, small_payload);
  }
  if (open_) close(CloseReason::peer_closed);
}

asio::awaitable<void> PeerConnection::refuse(wire::ErrorCode code) {
  std::string name(wire::error_code_name(code));
  std::string why = code == wire::ErrorCode::encryption_required
                        ? "handshake refused: that swarm is private: its peers talk TLS with the swarm key, never plaintext"
                        : "handshake refused: " + name;
  control_.push_back(OutFrame{wire::encode(wire::ErrorMsg{name, why}), {}});
  uploads_.clear();
  haves_.clear();
  wake_writer();
  // Give the writer a moment to deliver the refusal, then hang up.
  asio::steady_timer t(stream_.get_executor(), std::chrono::milliseconds(200));
  co_await t.async_wait(kUseTuple);
  close(CloseReason::refused, name);
}

// The frame header, then the block from the file (PeerStream: sendfile in plaintext,
// pread + one TLS write under TLS).
asio::awaitable<std::string> PeerConnection::send_block(const wire::Request& r) {
  auto src = handler_->block_source(*this, r);
  if (src.fd < 0) co_return std::string();
  if (!co_await wait_for_upload_tokens(r.length)) co_return open_ ? "send failed" : std::string();
  // Frames waiting to go (`have`s, requests) lead the block's header in one write.
  std::string head = take_control_frames();
  head += wire::encode(wire::Piece{r.piece, r.begin}, r.length);
  std::string failure = co_await stream_.send_file(head, src.fd, src.offset, r.length, payload_sent_);
  if (failure.empty()) last_sent_ = last_payload_ = Clock::now();
  co_return failure;
}

asio::awaitable<bool> PeerConnection::write_control_frames() {
  frame_haves();
  auto& bufs = control_bufs_;
  bufs.clear();
  std::size_t frames = std::min(control_.size(), kMaxBatch);
  for (std::size_t i = 0; i < frames; ++i) {
    bufs.push_back(asio::buffer(control_[i].header));
    if (!control_[i].payload.empty()) bufs.push_back(asio::buffer(control_[i].payload));
  }
  if (co_await stream_.write(bufs)) co_return false;
  for (std::size_t i = 0; i < frames; ++i) payload_sent_ += control_[i].payload.size();
  control_.erase(control_.begin(), control_.begin() + static_cast<std::ptrdiff_t>(frames));
  if (control_.empty()) {
    urgent_ = false;
    soon_due_ = {};
  }
  last_sent_ = Clock::now();
  co_return true;
}

// The upload limiter's wait before a block. Frames that must not wait (a request, a choke,
// a `have` sent at once) still go out meanwhile: behind a 256 KiB block at 1 MiB/s they
// would wait a quarter of a second, at 100 KiB/s two and a half, and a request late by
// that is a download slowed by it.
asio::awaitable<bool> PeerConnection::wait_for_upload_tokens(std::uint64_t bytes) {
  if (!up_limit_ || up_limit_->unlimited()) co_return open_;
  auto wait = up_limit_->reserve(bytes, Clock::now());
  if (wait.count() <= 0) co_return open_;
  auto due = Clock::now() + wait;
  while (open_ && Clock::now() < due) {
    if (urgent_ && (!control_.empty() || !haves_.empty())) {
      if (!co_await write_control_frames()) co_return false;
      continue;
    }
    wake_.expires_at(due);
    co_await wake_.async_wait(kUseTuple);
  }
  co_return open_;
}

std::string PeerConnection::take_control_frames() {
  frame_haves();
  std::string out;
  while (!control_.empty() && control_.front().payload.empty()) {
    out += control_.front().header;
    control_.pop_front();
  }
  if (control_.empty()) {
    urgent_ = false;
    soon_due_ = {};
  }
  return out;
}

asio::awaitable<void> PeerConnection::writer() {
  auto self = shared_from_this();
  try {
    while (open_) {
      bool control = !control_.empty() || !haves_.empty();
      if (control && !urgent_ && uploads_.empty() && Clock::now() < soon_due_) {
        wake_.expires_at(soon_due_);  // only frames that may wait: let more join them
        co_await wake_.async_wait(kUseTuple);
        continue;
      }
      // Waiting frames ride ahead of the next block (one write) unless one carries a payload,
      // or one must not wait and the upload limiter may hold the block back.
      bool payload_frames = std::any_of(control_.begin(), control_.end(), [](const OutFrame& f) { return !f.payload.empty(); });
      // (urgent_ alone also means "uploads queued": wake_writer() sets it for them too.)
      bool limited = up_limit_ && !up_limit_->unlimited();
      if (!uploads_.empty() && !payload_frames && !(control && urgent_ && limited)) {  // choking a peer clears its queue
        wire::Request r = uploads_.front();
        uploads_.pop_front();
        std::string failure = co_await send_block(r);  // with the waiting frames ahead of it
        if (!failure.empty()) {
          close(CloseReason::send_failed, failure);
          break;
        }
        continue;
      }
      if (control) {
        if (!co_await write_control_frames()) break;
        continue;
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kUseTuple);
    }
  } catch (const std::exception& e) {
    close(CloseReason::send_failed, e.what());
    co_return;
  }
  if (open_) close(CloseReason::send_failed, "connection lost");
}

}  // namespace p2p
