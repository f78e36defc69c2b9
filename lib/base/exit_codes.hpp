// What each ExitCode means, in the user's words: the one table the man pages'
// EXIT STATUS section is generated from (README "Exit codes" says the same).
#pragma once
#include <span>

#include "base/error.hpp"

namespace p2p {

struct ExitCodeDoc {
  ExitCode code;
  const char* meaning;
};

// Every ExitCode once, in increasing order.
std::span<const ExitCodeDoc> exit_code_docs();

}  // namespace p2p
