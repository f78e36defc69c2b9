// Helpers shared by unit tests: temporary folders and deterministic file contents.
#pragma once
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "base/file_io.hpp"

namespace p2p::test {

class TempDir {
 public:
  TempDir() {
    auto base = std::filesystem::temp_directory_path();
    std::mt19937_64 rng(std::random_device{}());
    path_ = base / ("p2p-unit-" + std::to_string(rng()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  write_file_atomically(p, content);
}

}  // namespace p2p::test
