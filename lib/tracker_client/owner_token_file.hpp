// Where a publisher keeps the owner tokens trackers answered to /publish:
// <meta>.owner-tokens.json beside the meta, {"HOST:PORT": "<64 hex>", ...},
// mode 0600, written crash-safely. `p2p-tracker withdraw --token-file` reads it.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace p2p {

std::filesystem::path owner_token_file_for(const std::filesystem::path& meta_path);
// Adds (or replaces) this tracker's token, keeping the others. Error(disk) on failure.
void save_owner_token(const std::filesystem::path& file, const std::string& tracker, const std::string& token);
// This tracker's token from the file; nullopt if the file has none for it.
// Error(input_file) if the file cannot be read or is not such a JSON object.
std::optional<std::string> load_owner_token(const std::filesystem::path& file, const std::string& tracker);

}  // namespace p2p
