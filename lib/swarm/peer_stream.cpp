// PeerStream: plaintext or TLS under one interface. TLS is OpenSSL driven directly on the
// socket's descriptor (a socket BIO, non-blocking): SSL_read_ex / SSL_write_ex move bytes
// between the kernel and our buffers with no BIO pair in between (outgoing records pass
// a buffering BIO that is flushed after every call), and a call that would block waits
// for readiness (socket.async_wait) and is retried. The SSL object comes from
// TlsContext's asio::ssl::context, so its configuration and PSK callbacks are unchanged;
// the callbacks meet this connection's TlsPeerState (ex_data).
#include "swarm/peer_stream.hpp"

#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/core.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "net/use_tuple.hpp"
#include "swarm/tls_peer_state.hpp"

namespace p2p {

using asio::ip::tcp;

namespace {
constexpr std::uint8_t kTlsHandshakeRecord = 0x16;  // TLS record type "handshake": a ClientHello

bool is_ssl_error(const std::error_code& ec) { return ec.category() == asio::error::get_ssl_category(); }
int ssl_reason(const std::error_code& ec) { return is_ssl_error(ec) ? ERR_GET_REASON(static_cast<unsigned long>(ec.value())) : 0; }

bool hung_up(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::operation_aborted;
}

// The record buffer for incoming TLS: with read-ahead, one recv takes up to this much
// (several 16 KiB records) instead of one record's header, then its body.
constexpr std::size_t kTlsReadBuffer = 64 * 1024;
// Outgoing records are gathered up to this much and sent with one write: a 256 KiB block
// is 17 records, one send(2) each without it (half the seeder's system time in a private
// swarm). Every SSL call that may have written is followed by a flush, so nothing waits
// in the buffer.
constexpr int kTlsWriteBatch = 64 * 1024;

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// Why an SSL call failed, as asio::ssl::stream reported it: OpenSSL's error code in
// asio's ssl category (so ssl_reason() reads the same reasons), asio::error::eof for a
// close_notify, and stream_truncated for a transport EOF without one; a failed syscall
// (reset, broken pipe) as its errno. `ssl_error` is SSL_get_error's answer, `saved_errno`
// errno right after the call. Drains the error queue.
std::error_code ssl_failure(int ssl_error, int saved_errno) {
  unsigned long code = ERR_get_error();  // the earliest error: the cause, as asio reported it
  ERR_clear_error();
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;
    case SSL_ERROR_SSL:
      if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return asio::ssl::error::stream_truncated;
      if (code != 0) return {static_cast<int>(code), asio::error::get_ssl_category()};
      return asio::ssl::error::unexpected_result;
    case SSL_ERROR_SYSCALL:
      if (code != 0 && ERR_GET_LIB(code) == ERR_LIB_SYS)
        return {ERR_GET_REASON(code), asio::error::get_system_category()};
      if (code != 0) return {static_cast<int>(code), asio::error::get_ssl_category()};
      if (saved_errno != 0) return {saved_errno, asio::error::get_system_category()};
      return asio::ssl::error::stream_truncated;  // EOF without close_notify (the OpenSSL 1.1 way)
    default:
      return asio::ssl::error::unexpected_result;
  }
}
}  // namespace

struct PeerStream::Impl {
  enum class Mode { plain, tls_client, detect } mode;
  tcp::socket socket;
  TlsContext* tls_ctx = nullptr;
  TlsPeerState state;
  std::unique_ptr<SSL, SslFree> ssl;  // TLS connections: OpenSSL on socket's descriptor
  std::vector<std::uint8_t> out;      // TLS: frames gathered, or a header and a block read from disk

  Impl(Mode m, tcp::socket s, TlsContext* ctx) : mode(m), socket(std::move(s)), tls_ctx(ctx) {}

  void make_tls(asio::ssl::context& ctx, bool server) {
    ERR_clear_error();
    SSL* s = SSL_new(ctx.native_handle());
    if (!s) throw std::runtime_error(fmt::format("OpenSSL: SSL_new failed: {}", ERR_get_error()));
    ssl.reset(s);
    SSL_set_ex_data(s, tls_peer_state_index(), &state);
    // Whole writes (one SSL_write_ex sends every record of a block), retried with the same
    // arguments after WANT_WRITE; keep record buffers: no malloc per record.
    SSL_clear_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    // AUTO_RETRY (OpenSSL's default, stated here because drive() relies on it): WANT_READ
    // only once the socket is drained, never after a non-data record with more already
    // buffered; Asio's epoll is edge-triggered, so a wait then could never end.
    SSL_set_mode(s, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
    SSL_set_read_ahead(s, 1);
    SSL_set_default_read_buffer_len(s, kTlsReadBuffer);
    std::error_code ec;
    socket.native_non_blocking(true, ec);  // the SSL calls below must never block the io thread
    if (ec) throw std::system_error(ec, "making the socket non-blocking");
    // Reads from a socket BIO that never closes the descriptor; writes through a buffering
    // BIO on top of the same socket BIO (two references: one per direction).
    BIO* sock = BIO_new_socket(socket.native_handle(), BIO_NOCLOSE);
    BIO* batch = BIO_new(BIO_f_buffer());
    if (!sock || !batch || BIO_set_write_buffer_size(batch, kTlsWriteBatch) != 1 || BIO_up_ref(sock) != 1) {
      BIO_free(sock);
      BIO_free(batch);
      throw std::runtime_error("OpenSSL: making the connection's BIOs failed");
    }
    BIO_push(batch, sock);
    SSL_set_bio(s, sock, batch);
    if (server)
      SSL_set_accept_state(s);
    else
      SSL_set_connect_state(s);
  }

  // Runs `op` (an SSL call on `ssl`, 1 on success) until it succeeds, waiting for the
  // socket whenever OpenSSL wants to read or write it; the reader and the writer are two
  // coroutines on one thread, so each waits for what its own call asked for. Sets
  // `suspended` if it waited. Never calls OpenSSL on a closed socket (its descriptor
  // number may already belong to another file).
  template <class Op>
  asio::awaitable<std::error_code> drive(Op op, bool& suspended) {
    for (;;) {
      if (!socket.is_open()) co_return asio::error::bad_descriptor;
      ERR_clear_error();  // a stale error from the other coroutine's call must not be misread
      errno = 0;
      int r = op();
      int saved_errno = errno;
      if (r == 1) {
        // Most calls (every record read) wrote nothing: no flush, no coroutine frame for one.
        if (BIO_wpending(SSL_get_wbio(ssl.get())) == 0) co_return std::error_code();
        co_return co_await flush(suspended);
      }
      int e = SSL_get_error(ssl.get(), r);
      tcp::socket::wait_type w;
      if (e == SSL_ERROR_WANT_READ)
        w = tcp::socket::wait_read;
      else if (e == SSL_ERROR_WANT_WRITE)
        w = tcp::socket::wait_write;
      else
        co_return ssl_failure(e, saved_errno);
      suspended = true;
      auto [wec] = co_await socket.async_wait(w, kUseTuple);
      if (wec) co_return wec;
    }
  }

  // Sends what the write batch holds (records of any SSL call: data, a handshake's last
  // flight, a key update answered while reading), waiting while the socket is full.
  asio::awaitable<std::error_code> flush(bool& suspended) {
    BIO* w = SSL_get_wbio(ssl.get());
    while (BIO_wpending(w) > 0) {
      if (!socket.is_open()) co_return asio::error::bad_descriptor;
      errno = 0;
      if (BIO_flush(w) > 0) break;
      int saved_errno = errno;
      if (!BIO_should_retry(w)) {
        if (saved_errno == 0) saved_errno = EPIPE;
        co_return std::error_code(saved_errno, asio::error::get_system_category());
      }
      suspended = true;
      auto [wec] = co_await socket.async_wait(tcp::socket::wait_write, kUseTuple);
      if (wec) co_return wec;
    }
    co_return std::error_code();
  }

  // One whole SSL_write_ex of `data` (every record of it), retried with the same buffer.
  asio::awaitable<std::error_code> tls_write(const std::uint8_t* data, std::size_t len) {
    if (len == 0) co_return std::error_code();
    bool suspended = false;
    std::size_t written = 0;
    std::error_code ec = co_await drive([&] { return SSL_write_ex(ssl.get(), data, len, &written); }, suspended);
    if (!ec && !suspended) co_await yield();
    co_return ec;
  }

  // Like an asio operation, a TLS call that completed without waiting still lets the other
  // coroutines run before its caller continues (a peer that keeps the socket full must
  // not starve this connection's writer, timers, or other connections).
  asio::awaitable<void> yield() { co_await asio::post(socket.get_executor(), asio::use_awaitable); }
};

PeerStream::PeerStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerStream::PeerStream(PeerStream&&) noexcept = default;
PeerStream& PeerStream::operator=(PeerStream&&) noexcept = default;
PeerStream::~PeerStream() = default;

PeerStream PeerStream::plain(tcp::socket socket) {
  return PeerStream(std::make_unique<Impl>(Impl::Mode::plain, std::move(socket), nullptr));
}

PeerStream PeerStream::tls_client(tcp::socket socket, TlsContext& tls, PskMaterial key) {
  auto impl = std::make_unique<Impl>(Impl::Mode::tls_client, std::move(socket), &tls);
  impl->state.offered = key;
  return PeerStream(std::move(impl));
}

PeerStream PeerStream::incoming(tcp::socket socket, TlsContext* tls) {
  return PeerStream(std::make_unique<Impl>(Impl::Mode::detect, std::move(socket), tls));
}

tcp::socket& PeerStream::socket() { return impl_->socket; }
asio::any_io_executor PeerStream::get_executor() { return impl_->socket.get_executor(); }
bool PeerStream::encrypted() const { return impl_->ssl != nullptr; }

std::optional<Digest> PeerStream::proven_swarm() const {
  if (!impl_->ssl) return std::nullopt;
  if (impl_->state.matched) return impl_->state.matched->info_hash;
  if (impl_->state.offered) return impl_->state.offered->info_hash;
  return std::nullopt;
}

void PeerStream::close() {
  std::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
}

asio::awaitable<PeerStream::Started> PeerStream::start() {
  auto& s = *impl_;
  if (s.mode == Impl::Mode::plain) co_return Started{};
  if (s.mode == Impl::Mode::detect) {
    // Wait for the dialler's first byte without consuming it.
    auto [wec] = co_await s.socket.async_wait(tcp::socket::wait_read, kUseTuple);
    if (wec) co_return Started{StreamRefusal::closed, "hung up before saying anything"};
    std::uint8_t first = 0;
    ssize_t n;
    do n = ::recv(s.socket.native_handle(), &first, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n <= 0) co_return Started{StreamRefusal::closed, "hung up before saying anything"};
    if (first != kTlsHandshakeRecord || !s.tls_ctx) co_return Started{};  // plaintext: frames as before
    s.make_tls(s.tls_ctx->server(), true);
    bool suspended = false;
    std::error_code ec = co_await s.drive([&] { return SSL_do_handshake(s.ssl.get()); }, suspended);
    if (!ec && s.state.matched) co_return Started{};
    if (!s.state.identity_seen)
      co_return Started{StreamRefusal::unknown_key, "a TLS client offering no swarm key: refused (private swarms only "
                                                    "take TLS with a swarm key; public ones plaintext)"};
    if (!s.state.matched)
      co_return Started{StreamRefusal::unknown_key,
                        "TLS with a swarm key we do not hold: refused (no private swarm here has that key)"};
    if (hung_up(ec)) co_return Started{StreamRefusal::closed, "hung up during the TLS handshake"};
    co_return Started{StreamRefusal::handshake_failed,
                      fmt::format("TLS handshake failed (it named one of our swarms but did not prove its key): {}",
                                  ec.message())};
  }
  // Dialling a private swarm: TLS or nothing.
  s.make_tls(s.tls_ctx->client(), false);
  bool suspended = false;
  std::error_code ec = co_await s.drive([&] { return SSL_do_handshake(s.ssl.get()); }, suspended);
  if (!ec) co_return Started{};
  int reason = ssl_reason(ec);
  if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
      reason == SSL_R_UNEXPECTED_RECORD)
    co_return Started{StreamRefusal::plaintext_peer,
                      "answered in plaintext, not TLS: refused (a private swarm never talks plaintext; a plaintext "
                      "peer, or a downgrade attempt)"};
  if (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE || reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR ||
      reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER || reason == SSL_R_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY)
    co_return Started{StreamRefusal::key_refused,
                      "refused our swarm key in the TLS handshake: it does not hold this private swarm's key"};
  if (hung_up(ec))
    co_return Started{StreamRefusal::closed,
                      "hung up during the TLS handshake (a peer without this swarm's key, or without TLS)"};
  co_return Started{StreamRefusal::handshake_failed, fmt::format("TLS handshake failed: {}", ec.message())};
}

asio::awaitable<std::pair<std::error_code, std::size_t>> PeerStream::read_some(asio::mutable_buffer b) {
  auto& s = *impl_;
  if (s.ssl) {
    if (b.size() == 0) co_return std::pair{std::error_code(), std::size_t{0}};
    bool suspended = false;
    std::size_t n = 0;
    std::error_code ec = co_await s.drive([&] { return SSL_read_ex(s.ssl.get(), b.data(), b.size(), &n); }, suspended);
    if (!ec && !suspended) co_await s.yield();
    co_return std::pair{ec, ec ? std::size_t{0} : n};
  }
  auto [ec, n] = co_await s.socket.async_read_some(b, kUseTuple);
  co_return std::pair{ec, n};
}

asio::awaitable<std::error_code> PeerStream::read(asio::mutable_buffer b) {
  auto& s = *impl_;
  if (s.ssl) {
    // Record after record straight into b: OpenSSL decrypts in its read-ahead buffer and
    // copies the plaintext here; only an empty socket makes us wait.
    auto* p = static_cast<std::uint8_t*>(b.data());
    std::size_t got = 0;
    bool suspended = false;
    while (got < b.size()) {
      std::size_t n = 0;
      std::error_code ec =
          co_await s.drive([&] { return SSL_read_ex(s.ssl.get(), p + got, b.size() - got, &n); }, suspended);
      if (ec) co_return ec;
      got += n;
    }
    if (!suspended) co_await s.yield();
    co_return std::error_code();
  }
  auto [ec, n] = co_await asio::async_read(s.socket, b, kUseTuple);
  co_return ec;
}

asio::awaitable<std::error_code> PeerStream::write(const std::vector<asio::const_buffer>& bufs) {
  auto& s = *impl_;
  if (!s.ssl) {
    auto [ec, n] = co_await asio::async_write(s.socket, bufs, kUseTuple);
    co_return ec;
  }
  if (bufs.size() == 1)
    co_return co_await s.tls_write(static_cast<const std::uint8_t*>(bufs.front().data()), bufs.front().size());
  // One SSL_write per buffer would be a record each: gather small frames into one, so they
  // leave as few full records.
  std::size_t total = 0;
  for (const auto& b : bufs) total += b.size();
  s.out.resize(total);
  std::size_t at = 0;
  for (const auto& b : bufs) {
    std::memcpy(s.out.data() + at, b.data(), b.size());
    at += b.size();
  }
  co_return co_await s.tls_write(s.out.data(), s.out.size());
}

asio::awaitable<std::string> PeerStream::send_file(const std::string& head, int fd, std::uint64_t offset,
                                                   std::size_t len, std::uint64_t& sent) {
  auto& s = *impl_;
  if (s.ssl) {
    s.out.resize(head.size() + len);
    std::memcpy(s.out.data(), head.data(), head.size());
    std::size_t got = 0;
    while (got < len) {
      ssize_t r = ::pread(fd, s.out.data() + head.size() + got, len - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) co_return fmt::format("reading the source failed: {}", std::strerror(errno));
      if (r == 0) co_return fmt::format("source file ended early at offset {}", offset + got);
      got += static_cast<std::size_t>(r);
    }
    if (auto ec = co_await s.tls_write(s.out.data(), s.out.size())) co_return "send failed: " + ec.message();
    sent += len;
    co_return std::string();
  }
  // MSG_MORE: the head waits for the block's first bytes and leaves in the same segment,
  // instead of as a small packet of its own (which the receiver wakes up for).
  for (std::size_t at = 0; at < head.size();) {
    auto [ec, n] = co_await s.socket.async_send(asio::buffer(head.data() + at, head.size() - at), MSG_MORE, kUseTuple);
    if (ec) co_return "send failed: " + ec.message();
    at += n;
  }
  // The bytes straight from the file: no copy through user space on the serving side.
  off_t at = static_cast<off_t>(offset);
  std::size_t left = len;
  while (left > 0) {
    ssize_t r = ::sendfile(s.socket.native_handle(), fd, &at, left);
    if (r > 0) {
      left -= static_cast<std::size_t>(r);
      sent += static_cast<std::uint64_t>(r);
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto [wec] = co_await s.socket.async_wait(tcp::socket::wait_write, kUseTuple);
      if (wec) co_return "send failed: " + wec.message();
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      co_return r == 0 ? fmt::format("source file ended early at offset {}", at)
                       : fmt::format("send failed: {}", std::strerror(errno));
    }
  }
  co_return std::string();
}

}  // namespace p2p
