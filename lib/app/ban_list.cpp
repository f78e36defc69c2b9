// list_bans / forget_bans over Reputation.
#include "app/ban_list.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <cstdio>

#include "app/progress_reporter.hpp"
#include "storage/workdir_layout.hpp"
#include "swarm/reputation.hpp"

namespace p2p {

namespace {
std::filesystem::path db_of(const std::filesystem::path& workdir) {
  return workdir / std::string(kOwnDirName) / "reputation.db";
}
}  // namespace

std::string list_bans(const std::filesystem::path& workdir) {
  std::error_code ec;
  if (!std::filesystem::exists(db_of(workdir), ec)) return "no banned peers\n";
  Reputation rep(db_of(workdir));
  auto bans = rep.bans(std::chrono::system_clock::now());
  if (bans.empty()) return "no banned peers\n";
  std::string out;
  for (const auto& [peer, r] : bans)
    out += fmt::format("{}  until {:%Y-%m-%d %H:%M:%S} UTC  {}\n", peer,
                       fmt::gmtime(static_cast<std::time_t>(r.banned_until)), r.reason);
  return out;
}

std::size_t forget_bans(const std::filesystem::path& workdir) {
  std::error_code ec;
  if (!std::filesystem::exists(db_of(workdir), ec)) return 0;
  Reputation rep(db_of(workdir));
  std::size_t n = rep.forget_bans(std::chrono::system_clock::now());
  rep.flush();
  return n;
}

bool apply_ban_flags(bool list, bool forget, const std::filesystem::path& workdir, ProgressReporter& reporter) {
  if (list) {
    std::fputs(list_bans(workdir).c_str(), stdout);
    return true;
  }
  if (forget) reporter.info(fmt::format("lifted {} ban(s) kept in {}", forget_bans(workdir), workdir.string()));
  return false;
}

}  // namespace p2p
