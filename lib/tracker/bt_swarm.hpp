// BitTorrent swarms in the tracker's one swarm store: how a 20-byte info hash
// (v1 SHA-1, or v2 SHA-256 truncated per BEP 52) is keyed beside the 32-byte
// p2p-share swarms, and which BitTorrent swarms this tracker serves (open or a
// whitelist re-read on SIGHUP). Shared by the HTTP and UDP dialects; no I/O but the list file.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/sha256.hpp"

namespace p2p::tracker {

using BtHash = std::array<std::uint8_t, 20>;

// A BitTorrent swarm's store key: the 20 bytes followed by a fixed 12-byte tag.
// The JSON dialect refuses 64-hex info hashes that end in the tag (a real SHA-256
// does so with probability 2^-96), so the two key spaces never meet, and the key
// turns back into the info hash for the dashboard and /stats.
Digest bt_swarm_key(const BtHash& info_hash);
std::optional<BtHash> bt_hash_of_key(const Digest& key);
inline bool is_bt_swarm_key(const Digest& key) { return bt_hash_of_key(key).has_value(); }

// Info hashes are SHA-1 or SHA-256 output, so their first 8 bytes already hash evenly;
// the table's contents are the operator's list, so a client's lookups cannot crowd a bucket.
struct BtHashHash {
  std::size_t operator()(const BtHash& h) const noexcept {
    std::uint64_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return static_cast<std::size_t>(v);
  }
};
using BtWhitelist = std::unordered_set<BtHash, BtHashHash>;

// Which BitTorrent swarms are served: none (the dialect is off), any, or a list.
class BtPolicy {
 public:
  enum class Mode { off, open, whitelist };
  BtPolicy() = default;
  static BtPolicy open() { BtPolicy p; p.mode_ = Mode::open; return p; }
  // Reads the list (Error(usage) naming file and line on a malformed line; Error(disk) unreadable).
  static BtPolicy whitelist(std::filesystem::path file);

  Mode mode() const { return mode_; }
  bool enabled() const { return mode_ != Mode::off; }
  bool allows(const BtHash& info_hash) const {
    return mode_ == Mode::open || (mode_ == Mode::whitelist && list_->count(info_hash) > 0);
  }
  // SIGHUP: re-reads the file; on failure keeps the old list and returns the error text.
  std::optional<std::string> reload();
  std::size_t listed() const { return list_ ? list_->size() : 0; }

 private:
  Mode mode_ = Mode::off;
  std::filesystem::path file_;
  std::shared_ptr<const BtWhitelist> list_;
};

// One line a hash, as opentracker -w: 40 hex digits (v1) or 64 (v2, truncated to
// the 20 bytes clients announce); blank lines and lines starting with '#' skipped.
BtWhitelist parse_bt_whitelist(std::string_view text, const std::string& where);

}  // namespace p2p::tracker
