// The TLS configuration of private swarms: TLS 1.3 only, external PSK only (psk_dhe_ke:
// an X25519 exchange under the PSK, for forward secrecy), TLS_AES_128_GCM_SHA256, no
// certificates, no session tickets. One per session; OpenSSL and asio::ssl stay in the .cpp
// files (docs/PROTOCOL.md, "Private swarms").
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "base/sha256.hpp"

namespace asio::ssl {
class context;
}

namespace p2p {

// What one private swarm's connections are keyed with.
struct PskMaterial {
  Digest identity{};   // swarm_psk_identity(): sent in clear in the ClientHello
  Digest psk{};        // swarm_psk(): never sent
  Digest info_hash{};  // the torrent the key belongs to (what the peer proves it may join)
};

// The accepting side's lookup: the swarm whose identity this is, or nullopt.
using PskLookup = std::function<std::optional<PskMaterial>(const Digest& identity)>;

class TlsContext {
 public:
  explicit TlsContext(PskLookup lookup);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  asio::ssl::context& client();  // dialling side: the PSK is set per connection
  asio::ssl::context& server();  // accepting side: the PSK is found by its identity
  std::optional<PskMaterial> lookup(const Digest& identity) const { return lookup_(identity); }

 private:
  PskLookup lookup_;
  std::unique_ptr<asio::ssl::context> client_, server_;
};

}  // namespace p2p
