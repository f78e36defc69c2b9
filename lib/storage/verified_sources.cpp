// VerifiedSources: the JSON file, read with limits, written atomically.
#include "storage/verified_sources.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"

namespace p2p {

using json = nlohmann::json;

VerifiedSources::VerifiedSources(std::filesystem::path file) : file_(std::move(file)) {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return;
  try {
    json j = json::parse(read_small_file(file_, limits::kMaxStateFileBytes));
    if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("sources") || !j["sources"].is_object())
      throw std::runtime_error("not a version 1 verified-sources file");
    for (const auto& [path, e] : j["sources"].items()) {
      if (entries_.size() >= kMaxEntries) break;
      Entry entry;
      if (!digest_from_hex(e.at("info_hash").get<std::string>(), entry.info_hash))
        throw std::runtime_error("bad info_hash");
      entry.identity.device = e.at("device").get<std::uint64_t>();
      entry.identity.inode = e.at("inode").get<std::uint64_t>();
      entry.identity.size = e.at("size").get<std::uint64_t>();
      entry.identity.mtime_ns = e.at("mtime_ns").get<std::int64_t>();
      entry.identity.ctime_ns = e.at("ctime_ns").get<std::int64_t>();
      entries_[path] = entry;
    }
  } catch (const std::exception& e) {
    entries_.clear();
    load_problem_ = fmt::format("{} is unusable ({}); sources will be re-verified", file_.string(), e.what());
  }
}

std::string VerifiedSources::key(const std::filesystem::path& source) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(source, ec);
  return (ec ? source : abs).lexically_normal().string();
}

bool VerifiedSources::vouches(const std::filesystem::path& source, const Digest& info_hash,
                              const SourceIdentity& now) const {
  auto it = entries_.find(key(source));
  return it != entries_.end() && it->second.info_hash == info_hash && it->second.identity == now;
}

void VerifiedSources::record(const std::filesystem::path& source, const Digest& info_hash,
                             const SourceIdentity& identity) {
  if (entries_.size() >= kMaxEntries && !entries_.count(key(source))) return;
  entries_[key(source)] = Entry{info_hash, identity};
  dirty_ = true;
}

void VerifiedSources::forget(const std::filesystem::path& source) { dirty_ |= entries_.erase(key(source)) > 0; }

void VerifiedSources::save() {
  if (!dirty_) return;
  json sources = json::object();
  for (const auto& [path, e] : entries_)
    sources[path] = json{{"info_hash", to_hex(e.info_hash)}, {"device", e.identity.device},
                         {"inode", e.identity.inode},        {"size", e.identity.size},
                         {"mtime_ns", e.identity.mtime_ns},  {"ctime_ns", e.identity.ctime_ns}};
  write_file_atomically(file_, json{{"version", 1}, {"sources", std::move(sources)}}.dump() + "\n");
  dirty_ = false;
}

}  // namespace p2p
