// One writer per final name in a workdir: an exclusive flock on
// WORKDIR/.p2p/<sha256(name)>.lock, held for the life of the process. The kernel
// releases it when the process dies, so a lock left by kill -9 never blocks a
// rerun; the file records the holder's pid for the message.
#pragma once
#include <filesystem>
#include <string>

namespace p2p {

class WorkdirLock {
 public:
  // Throws Error(in_use) "... is being downloaded by process N" if another
  // process holds it; Error(disk) if the lock file cannot be created.
  WorkdirLock(const std::filesystem::path& lock_file, const std::string& what);
  ~WorkdirLock();
  WorkdirLock(WorkdirLock&&) noexcept;
  WorkdirLock(const WorkdirLock&) = delete;
  WorkdirLock& operator=(const WorkdirLock&) = delete;
  WorkdirLock& operator=(WorkdirLock&&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace p2p
