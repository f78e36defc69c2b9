// TlsContext: the two SSL_CTX (client, server) with PSK callbacks. Per connection,
// PeerStream attaches a TlsPeerState (tls_peer_state.hpp) to the SSL object: the client
// callback reads the PSK to offer from it, the server callback records what it found.
#include "swarm/tls_context.hpp"

#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <stdexcept>

#include "swarm/tls_peer_state.hpp"

namespace p2p {

namespace {

constexpr unsigned char kAes128GcmSha256[] = {0x13, 0x01};  // TLS_AES_128_GCM_SHA256

// A session object holding an external PSK for TLS 1.3 (ownership passes to OpenSSL).
SSL_SESSION* psk_session(SSL* ssl, const Digest& psk) {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  if (!cipher) return nullptr;
  SSL_SESSION* s = SSL_SESSION_new();
  if (!s) return nullptr;
  if (SSL_SESSION_set1_master_key(s, psk.data(), psk.size()) != 1 || SSL_SESSION_set_cipher(s, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

int use_session(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** sess) {
  *sess = nullptr;
  auto* state = tls_peer_state(ssl);
  if (!state || !state->offered) return 0;  // a client connection without a key: fail the handshake
  // A second call (after a HelloRetryRequest) names the hash the server chose: ours or nothing.
  if (md && md != SSL_CIPHER_get_handshake_digest(SSL_CIPHER_find(ssl, kAes128GcmSha256))) return 1;
  SSL_SESSION* s = psk_session(ssl, state->offered->psk);
  if (!s) return 0;
  *id = state->offered->identity.data();
  *idlen = state->offered->identity.size();
  *sess = s;
  return 1;
}

int find_session(SSL* ssl, const unsigned char* identity, size_t identity_len, SSL_SESSION** sess) {
  *sess = nullptr;
  auto* state = tls_peer_state(ssl);
  auto* ctx = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_context_index()));
  if (!state || !ctx) return 0;
  state->identity_seen = true;
  if (identity_len != Digest{}.size()) return 1;  // not one of ours: no PSK, the handshake fails
  Digest id{};
  std::copy_n(identity, id.size(), id.begin());
  auto found = ctx->lookup(id);
  if (!found) return 1;
  SSL_SESSION* s = psk_session(ssl, found->psk);
  if (!s) return 0;
  state->matched = found;  // provisional until the binder checks out (the handshake completes)
  *sess = s;
  return 1;
}

void configure(asio::ssl::context& c) {
  SSL_CTX* ctx = c.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 || SSL_CTX_set1_groups_list(ctx, "X25519") != 1)
    throw std::runtime_error("OpenSSL: cannot configure TLS 1.3 with TLS_AES_128_GCM_SHA256 and X25519");
  // psk_dhe_ke only (SSL_OP_ALLOW_NO_DHE_KEX stays off); no tickets: every connection
  // proves the swarm key afresh, and no resumption secret is kept anywhere.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
  SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // authentication is the PSK binder, not a certificate
}

}  // namespace

TlsContext::TlsContext(PskLookup lookup)
    : lookup_(std::move(lookup)),
      client_(std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client)),
      server_(std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server)) {
  configure(*client_);
  configure(*server_);
  SSL_CTX_set_psk_use_session_callback(client_->native_handle(), use_session);
  SSL_CTX_set_psk_find_session_callback(server_->native_handle(), find_session);
  SSL_CTX_set_ex_data(server_->native_handle(), tls_context_index(), this);
}

TlsContext::~TlsContext() = default;

asio::ssl::context& TlsContext::client() { return *client_; }
asio::ssl::context& TlsContext::server() { return *server_; }

}  // namespace p2p

namespace p2p {

int tls_peer_state_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int tls_context_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace p2p
