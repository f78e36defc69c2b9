// PeerStream: plaintext or TLS under one interface. TLS is asio::ssl::stream over the
// same socket; the PSK callbacks (tls_context.cpp) meet this connection's TlsPeerState.
#include "swarm/peer_stream.hpp"

#include <asio/read.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>
#include <fmt/core.h>
#include <openssl/err.h>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
}  // namespace

struct PeerStream::Impl {
  enum class Mode { plain, tls_client, detect } mode;
  tcp::socket socket;
  TlsContext* tls_ctx = nullptr;
  TlsPeerState state;
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  std::vector<std::uint8_t> out;  // TLS: frames gathered, or a header and a block read from disk

  Impl(Mode m, tcp::socket s, TlsContext* ctx) : mode(m), socket(std::move(s)), tls_ctx(ctx) {}

  void make_tls(asio::ssl::context& ctx) {
    tls.emplace(socket, ctx);
    SSL* ssl = tls->native_handle();
    SSL_set_ex_data(ssl, tls_peer_state_index(), &state);
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);  // keep record buffers: no malloc per record
  }
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
bool PeerStream::encrypted() const { return impl_->tls.has_value(); }

std::optional<Digest> PeerStream::proven_swarm() const {
  if (!impl_->tls) return std::nullopt;
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
    s.make_tls(s.tls_ctx->server());
    auto [ec] = co_await s.tls->async_handshake(asio::ssl::stream_base::server, kUseTuple);
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
  s.make_tls(s.tls_ctx->client());
  auto [ec] = co_await s.tls->async_handshake(asio::ssl::stream_base::client, kUseTuple);
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
  if (s.tls) {
    auto [ec, n] = co_await s.tls->async_read_some(b, kUseTuple);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await s.socket.async_read_some(b, kUseTuple);
  co_return std::pair{ec, n};
}

asio::awaitable<std::error_code> PeerStream::read(asio::mutable_buffer b) {
  auto& s = *impl_;
  if (s.tls) {
    auto [ec, n] = co_await asio::async_read(*s.tls, b, kUseTuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_read(s.socket, b, kUseTuple);
  co_return ec;
}

asio::awaitable<std::error_code> PeerStream::write(const std::vector<asio::const_buffer>& bufs) {
  auto& s = *impl_;
  if (!s.tls) {
    auto [ec, n] = co_await asio::async_write(s.socket, bufs, kUseTuple);
    co_return ec;
  }
  if (bufs.size() == 1) {
    auto [ec, n] = co_await asio::async_write(*s.tls, bufs.front(), kUseTuple);
    co_return ec;
  }
  // asio::ssl writes one buffer per SSL_write: gather small frames into one, so they
  // leave as few full records rather than a record each.
  std::size_t total = 0;
  for (const auto& b : bufs) total += b.size();
  s.out.resize(total);
  std::size_t at = 0;
  for (const auto& b : bufs) {
    std::memcpy(s.out.data() + at, b.data(), b.size());
    at += b.size();
  }
  auto [ec, n] = co_await asio::async_write(*s.tls, asio::buffer(s.out), kUseTuple);
  co_return ec;
}

asio::awaitable<std::string> PeerStream::send_file(const std::string& head, int fd, std::uint64_t offset,
                                                   std::size_t len, std::uint64_t& sent) {
  auto& s = *impl_;
  if (s.tls) {
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
    auto [ec, n] = co_await asio::async_write(*s.tls, asio::buffer(s.out), kUseTuple);
    if (ec) co_return "send failed: " + ec.message();
    sent += len;
    co_return std::string();
  }
  auto [ec, n] = co_await asio::async_write(s.socket, asio::buffer(head), kUseTuple);
  if (ec) co_return "send failed: " + ec.message();
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
