// --list-bans / --forget-bans: the bans kept in a workdir's reputation database,
// shown or lifted by the user (a peer whose source changed honestly, say).
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>

namespace p2p {

// One line per banned peer: "PEER  until YYYY-MM-DD HH:MM:SS UTC  REASON"; "no banned peers" if none.
std::string list_bans(const std::filesystem::path& workdir);
// Lifts every ban in the workdir's reputation database; returns how many.
std::size_t forget_bans(const std::filesystem::path& workdir);

class ProgressReporter;
// The flags' effect: with `list`, prints the bans to stdout and returns true (the
// process ends there); with `forget`, lifts them and says how many.
bool apply_ban_flags(bool list, bool forget, const std::filesystem::path& workdir, ProgressReporter& reporter);

}  // namespace p2p
