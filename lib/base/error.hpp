// The error type of the library: a message that says what and where, plus the
// process exit code an app should return for it (documented in README).
#pragma once
#include <stdexcept>
#include <string>

namespace p2p {

enum class ExitCode : int {
  ok = 0,
  internal = 1,
  usage = 2,
  input_file = 3,     // a file we must read is missing or unreadable
  bad_meta = 4,       // meta is not JSON, has wrong types, or fails validation
  source_mismatch = 5,// seed source does not match the meta
  bind_failed = 6,    // listening port busy or not allowed
  peers_failed = 7,   // no peer could be reached or every peer failed us
  disk = 8,           // workdir not writable, disk full, write error
  verify_failed = 9,  // completed file does not match the whole-file hash
  tracker = 10,       // tracker unreachable or refused (when it was the only source)
  file_exists = 11,   // a file of the user's is in the way of the download's final name
  in_use = 12,        // another process is downloading the same name into the same workdir
  interrupted = 130,  // SIGINT/SIGTERM: state saved, rerun resumes
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

}  // namespace p2p
