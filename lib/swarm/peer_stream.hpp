// The byte stream under a PeerConnection: a TCP socket, or TLS 1.3 over one (private
// swarms). The peer protocol runs unchanged on either; only this class knows which.
// An incoming stream tells TLS from plaintext by its first byte (a TLS record starts
// 0x16, a frame's big-endian header length 0x00). Included only by network-edge sources
// (Asio); OpenSSL and asio::ssl stay in the .cpp file.
#pragma once
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "swarm/tls_context.hpp"

namespace p2p {

// Why a stream could not be set up (the TLS handshake, or the first byte), for messages
// and scoring; never decided on wording.
enum class StreamRefusal {
  none,
  closed,          // the peer hung up before or during the handshake
  plaintext_peer,  // we dialled with TLS and the answer was not TLS (a plaintext peer, or a downgrade)
  key_refused,     // we dialled with TLS and the peer refused our swarm key (it has another, or none)
  unknown_key,     // an incoming TLS client named no swarm key we hold (or none at all)
  handshake_failed,
};

class PeerStream {
 public:
  // Outgoing to a public swarm: plaintext.
  static PeerStream plain(asio::ip::tcp::socket socket);
  // Outgoing to a private swarm: TLS client offering that swarm's PSK.
  static PeerStream tls_client(asio::ip::tcp::socket socket, TlsContext& tls, PskMaterial key);
  // Incoming: plaintext or TLS server, decided by the first byte (tls may be null: plaintext only).
  static PeerStream incoming(asio::ip::tcp::socket socket, TlsContext* tls);

  PeerStream(PeerStream&&) noexcept;
  PeerStream& operator=(PeerStream&&) noexcept;
  ~PeerStream();

  struct Started {
    StreamRefusal refusal = StreamRefusal::none;
    std::string detail;  // one line for the user, when refused
  };
  // Detects and/or runs the TLS handshake. Call once, before any read or write.
  asio::awaitable<Started> start();

  bool encrypted() const;
  // The info hash whose swarm key the peer proved (TLS connections only).
  std::optional<Digest> proven_swarm() const;

  asio::awaitable<std::pair<std::error_code, std::size_t>> read_some(asio::mutable_buffer b);
  asio::awaitable<std::error_code> read(asio::mutable_buffer b);  // exactly b.size() bytes
  asio::awaitable<std::error_code> write(const std::vector<asio::const_buffer>& bufs);
  // A frame header, then `len` bytes of `fd` from `offset`: sendfile(2) on a plain socket;
  // under TLS, pread into one recycled buffer behind the header and one TLS write (records
  // of 16 KiB). Adds the file bytes sent to `sent`. Returns "" or why it failed.
  asio::awaitable<std::string> send_file(const std::string& head, int fd, std::uint64_t offset, std::size_t len,
                                         std::uint64_t& sent);

  asio::ip::tcp::socket& socket();  // options, endpoints, close
  asio::any_io_executor get_executor();
  void close();

 private:
  struct Impl;
  explicit PeerStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace p2p
