// Swarm keys: generation (OpenSSL RAND_bytes) and HKDF-SHA256 derivations.
#include "format/swarm_key.hpp"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace p2p {

SwarmKey generate_swarm_key() {
  SwarmKey k{};
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1)
    throw std::runtime_error("OpenSSL: no random bytes for a swarm key");
  return k;
}

Digest hkdf_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> salt, std::string_view info) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  Digest out{};
  std::size_t len = out.size();
  // OpenSSL refuses a zero-length salt pointer; RFC 5869 says an absent salt is HashLen zeros.
  static const std::uint8_t zeros[32] = {};
  if (salt.empty()) salt = std::span<const std::uint8_t>(zeros, sizeof zeros);
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt.data(), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), key.data(), static_cast<int>(key.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                  static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("OpenSSL: HKDF-SHA256 failed");
  return out;
}

namespace {
Digest derive(const SwarmKey& key, std::string_view label, const Digest& info_hash) {
  std::string info(label);
  info.append(reinterpret_cast<const char*>(info_hash.data()), info_hash.size());
  return hkdf_sha256(key, {}, info);
}
}  // namespace

Digest swarm_psk(const SwarmKey& key, const Digest& info_hash) { return derive(key, kPskLabel, info_hash); }
Digest swarm_psk_identity(const SwarmKey& key, const Digest& info_hash) {
  return derive(key, kPskIdentityLabel, info_hash);
}
Digest tracker_swarm_id(const SwarmKey& key, const Digest& info_hash) {
  return derive(key, kTrackerIdLabel, info_hash);
}

}  // namespace p2p
