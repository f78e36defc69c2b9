// Owner token files: a small JSON object, merged and rewritten atomically (0600).
#include "tracker_client/owner_token_file.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <system_error>

#include "base/error.hpp"
#include "base/file_io.hpp"

namespace p2p {

namespace {
constexpr std::uint64_t kMaxTokenFileBytes = 64 * 1024;  // a token per tracker; 64 KiB is hundreds
}

std::filesystem::path owner_token_file_for(const std::filesystem::path& meta_path) {
  auto p = meta_path;
  p += ".owner-tokens.json";
  return p;
}

void save_owner_token(const std::filesystem::path& file, const std::string& tracker, const std::string& token) {
  nlohmann::json j = nlohmann::json::object();
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    j = nlohmann::json::parse(read_small_file(file, kMaxTokenFileBytes), nullptr, false);
    if (!j.is_object()) j = nlohmann::json::object();  // unreadable before: start again rather than lose this token
  }
  j[tracker] = token;
  write_file_atomically(file, j.dump(2) + "\n", 0600);
}

std::optional<std::string> load_owner_token(const std::filesystem::path& file, const std::string& tracker) {
  auto j = nlohmann::json::parse(read_small_file(file, kMaxTokenFileBytes), nullptr, false);
  if (!j.is_object())
    throw Error(ExitCode::input_file, fmt::format("{}: not an owner-token file (a JSON object of tracker: token)", file.string()));
  auto it = j.find(tracker);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace p2p
