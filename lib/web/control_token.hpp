// The secret that lets a client change a node over its HTTP API (add, pause,
// resume, remove): 256 random bits (OpenSSL RAND_bytes) as 64 hex digits, drawn
// at start, written crash-safely with mode 0600 to WORKDIR/.p2p/http-token and
// printed once. Requests show it as "Authorization: Bearer <token>" — a header a
// cross-site form or <img> cannot send.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::web {

class ControlToken {
 public:
  // A fresh token; throws Error(internal) if the random source fails.
  static ControlToken generate();
  // Writes it to `path` (temp file, fsync, rename; mode 0600). Error(disk) on failure.
  void save(const std::filesystem::path& path) const;

  const std::string& hex() const { return hex_; }
  // Whether an Authorization header value is "Bearer <this token>" (scheme
  // case-insensitive), compared in constant time.
  bool authorizes(std::optional<std::string_view> authorization) const;

 private:
  explicit ControlToken(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

}  // namespace p2p::web
