// Owner tokens: the secret a publisher gets back from POST /publish and shows
// (Authorization: Bearer <token>) to withdraw the file. 256 random bits as 64
// hex digits; stores keep only its SHA-256, so a leaked database or Redis dump
// does not hand out the right to withdraw.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/sha256.hpp"

namespace p2p::tracker {

struct OwnerToken {
  std::string hex;  // given to the publisher once
  Digest hash{};    // what the store keeps
};

// A fresh token from the OS's CSPRNG (OpenSSL RAND_bytes); throws Error(internal) if it fails.
OwnerToken new_owner_token();
// The hash of the token in an "Authorization: Bearer <64 hex>" header value;
// nullopt when the value is not exactly that.
std::optional<Digest> owner_token_hash_from_header(std::string_view authorization);
// Compares in constant time, so response timing says nothing about the stored hash.
bool token_hashes_equal(const Digest& a, const Digest& b);

}  // namespace p2p::tracker
