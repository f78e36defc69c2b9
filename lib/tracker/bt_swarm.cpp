// BitTorrent swarm keys and the whitelist file.
#include "tracker/bt_swarm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/error.hpp"

namespace p2p::tracker {

namespace {
// "\0BitTorrent\0" after the 20 bytes: never a p2p-share key (see the header).
constexpr std::array<std::uint8_t, 12> kTag{0x00, 'B', 'i', 't', 'T', 'o', 'r', 'r', 'e', 'n', 't', 0x00};
// A whitelist larger than this is a mistake (opentracker's lists are far smaller).
constexpr std::size_t kMaxWhitelistBytes = 64u << 20;
}  // namespace

Digest bt_swarm_key(const BtHash& info_hash) {
  Digest d{};
  std::copy(info_hash.begin(), info_hash.end(), d.begin());
  std::copy(kTag.begin(), kTag.end(), d.begin() + 20);
  return d;
}

std::optional<BtHash> bt_hash_of_key(const Digest& key) {
  if (!std::equal(kTag.begin(), kTag.end(), key.begin() + 20)) return std::nullopt;
  BtHash h{};
  std::copy(key.begin(), key.begin() + 20, h.begin());
  return h;
}

BtWhitelist parse_bt_whitelist(std::string_view text, const std::string& where) {
  BtWhitelist out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    BtHash h{};
    if (line.size() == 64) {
      Digest d{};
      if (!digest_from_hex(line, d))
        throw Error(ExitCode::usage, fmt::format("{}:{}: not 64 hex digits", where, line_no));
      std::copy(d.begin(), d.begin() + 20, h.begin());  // BEP 52: clients announce the first 20 bytes
    } else if (line.size() != 40 || !from_hex(line, h)) {
      throw Error(ExitCode::usage, fmt::format("{}:{}: expected an info hash of 40 (v1) or 64 (v2) hex digits, got {} "
                                               "characters",
                                               where, line_no, line.size()));
    }
    out.insert(h);
  }
  return out;
}

BtPolicy BtPolicy::whitelist(std::filesystem::path file) {
  BtPolicy p;
  p.mode_ = Mode::whitelist;
  p.file_ = std::move(file);
  if (auto error = p.reload()) throw Error(ExitCode::usage, *error);
  return p;
}

std::optional<std::string> BtPolicy::reload() {
  if (mode_ != Mode::whitelist) return std::nullopt;
  std::ifstream in(file_, std::ios::binary);
  if (!in) return fmt::format("--bt-whitelist {}: cannot read it", file_.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxWhitelistBytes)
    return fmt::format("--bt-whitelist {}: larger than {} bytes", file_.string(), kMaxWhitelistBytes);
  try {
    list_ = std::make_shared<const BtWhitelist>(parse_bt_whitelist(text.str(), file_.string()));
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace p2p::tracker
