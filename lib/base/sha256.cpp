// SHA-256 via OpenSSL's EVP interface (uses SHA-NI where the CPU has it).
#include "base/sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <stdexcept>
#include <vector>

namespace p2p {

namespace {

std::atomic<bool> g_sha256_fetched{false};  // sha256_md() has run once

// SHA-256 fetched from OpenSSL's provider once: EVP_sha256() is fetched again on
// every EVP_DigestInit_ex (a lock and a lookup each time), which dominated hashing
// many small inputs (a Merkle root over a million pieces).
const EVP_MD* sha256_md() {
  static EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    g_sha256_fetched = true;
    return fetched;
  }();
  return md ? md : EVP_sha256();
}

// One context per thread for one-shot hashes: no allocation per call.
struct OneShot {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~OneShot() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256Prefetch::Sha256Prefetch() {
  if (g_sha256_fetched.load(std::memory_order_relaxed)) return;
  try {
    thread_ = std::thread([] {
      (void)sha256_md();
      OPENSSL_thread_stop();  // this thread's OpenSSL state, freed now rather than leaked at exit
    });
  } catch (const std::system_error&) {
    // No thread to spare: the first hash fetches it instead.
  }
}

Sha256Prefetch::~Sha256Prefetch() {
  if (thread_.joinable()) thread_.join();
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex2(impl_->ctx, sha256_md(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}
void Sha256::update(std::string_view data) { EVP_DigestUpdate(impl_->ctx, data.data(), data.size()); }

Digest Sha256::finish() {
  Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
  EVP_DigestInit_ex2(impl_->ctx, sha256_md(), nullptr);
  return d;
}

Digest sha256(std::span<const std::uint8_t> data) {
  thread_local OneShot one;
  Digest d{};
  unsigned int len = 0;
  if (!one.ctx || EVP_DigestInit_ex2(one.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(one.ctx, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(one.ctx, d.data(), &len) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  return d;
}
Digest sha256(std::string_view data) {
  return sha256(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Digest merkle_root(std::span<const Digest> leaves) {
  if (leaves.empty()) return Digest{};
  // The tree is padded with zero digests to a power of two. A subtree of padding alone
  // has the same root at every place of a level (`pad`), so only the nodes covering a
  // listed leaf are hashed: a meta whose piece count is just past a power of two no
  // longer pays nearly twice the hashes.
  std::size_t width = 1;
  while (width < leaves.size()) width *= 2;
  if (width == 1) return leaves[0];
  Digest pad{};
  std::array<std::uint8_t, 64> pair{};
  auto hash_pair = [&](const Digest& left, const Digest& right) {
    std::copy(left.begin(), left.end(), pair.begin());
    std::copy(right.begin(), right.end(), pair.begin() + 32);
    return sha256(std::span<const std::uint8_t>(pair));
  };
  // The first level is hashed from the leaves into a list half their size (not a copy of
  // them: a million pieces are 32 MiB), the levels above in place.
  std::size_t n = leaves.size();
  std::vector<Digest> layer((n + 1) / 2);
  for (std::size_t i = 0; i < layer.size(); ++i) layer[i] = hash_pair(leaves[2 * i], 2 * i + 1 < n ? leaves[2 * i + 1] : pad);
  pad = hash_pair(pad, pad);
  n = layer.size();
  for (width /= 2; width > 1; width /= 2) {
    std::size_t up = (n + 1) / 2;
    for (std::size_t i = 0; i < up; ++i) layer[i] = hash_pair(layer[2 * i], 2 * i + 1 < n ? layer[2 * i + 1] : pad);
    pad = hash_pair(pad, pad);
    n = up;
  }
  return layer[0];
}

bool digest_from_hex(std::string_view hex, Digest& out) { return from_hex(hex, out); }

}  // namespace p2p
