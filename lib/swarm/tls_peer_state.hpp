// What one TLS connection's PSK callbacks read and write, attached to its SSL object
// (OpenSSL ex_data). Shared by tls_context.cpp and peer_stream.cpp only (OpenSSL types).
#pragma once
#include <openssl/ssl.h>

#include <optional>

#include "swarm/tls_context.hpp"

namespace p2p {

struct TlsPeerState {
  std::optional<PskMaterial> offered;  // client: the swarm we dial for
  std::optional<PskMaterial> matched;  // server: the swarm whose identity the client named
  bool identity_seen = false;          // server: the ClientHello carried a PSK identity at all
};

int tls_peer_state_index();   // SSL ex_data slot for a TlsPeerState*
int tls_context_index();      // SSL_CTX ex_data slot for the TlsContext*
inline TlsPeerState* tls_peer_state(SSL* ssl) {
  return static_cast<TlsPeerState*>(SSL_get_ex_data(ssl, tls_peer_state_index()));
}

}  // namespace p2p
