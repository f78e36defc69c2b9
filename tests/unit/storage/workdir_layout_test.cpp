// WorkdirLayout::downloads_in_progress: what counts as a download of ours, what is
// "not ours", and that an unreadable state file is an error, not "no download".
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.hpp"
#include "storage/workdir_layout.hpp"
#include "test_support.hpp"

using namespace p2p;
namespace fs = std::filesystem;

TEST_CASE("downloads_in_progress names the downloads whose state files are ours", "[workdir]") {
  test::TempDir dir;
  auto layout = WorkdirLayout::prepare(dir.path());
  test::write_file(layout.own_dir / "aa.state.json", R"({"name":"film.mkv","size":1000,"pieces":"ff"})");
  test::write_file(layout.own_dir / "bb.state.json", R"({"name":"album","size":5})");
  // Not ours: not JSON, no name, a size that is not a whole number, a folder, a link.
  test::write_file(layout.own_dir / "cc.state.json", "garbage");
  test::write_file(layout.own_dir / "dd.state.json", R"({"size":5})");
  test::write_file(layout.own_dir / "ee.state.json", R"({"name":"x","size":"5"})");
  fs::create_directory(layout.own_dir / "ff.state.json");
  fs::create_symlink(layout.own_dir / "aa.state.json", layout.own_dir / "gg.state.json");
  test::write_file(layout.own_dir / "hh.partial", R"({"name":"not a state file","size":1})");
  CHECK(layout.downloads_in_progress() == std::set<std::string>{"film.mkv", "album"});
}

TEST_CASE("downloads_in_progress: no .p2p folder, or a file in its place, is no download", "[workdir]") {
  test::TempDir dir;
  CHECK(WorkdirLayout{dir.path(), dir / ".p2p"}.downloads_in_progress().empty());
  test::write_file(dir / ".p2p", "a file of the user's");
  CHECK(WorkdirLayout{dir.path(), dir / ".p2p"}.downloads_in_progress().empty());
}

namespace {
// 0 if an unreadable state file and an unlistable .p2p are both Error(disk) naming
// what could not be read; else which check failed (1-4). Run where permissions hold.
int unreadable_state_checks(const WorkdirLayout& layout, const fs::path& state) {
  try {
    layout.downloads_in_progress();
    return 1;  // an unreadable state file taken for no download
  } catch (const Error& e) {
    if (e.code() != ExitCode::disk) return 2;
    if (std::string(e.what()).find("aa.state.json") == std::string::npos) return 3;
  }
  ::chmod(state.c_str(), 0644);
  ::chmod(layout.own_dir.c_str(), 0);
  bool refused = false;
  try {
    layout.downloads_in_progress();
  } catch (const Error& e) {
    refused = e.code() == ExitCode::disk && std::string(e.what()).find(".p2p") != std::string::npos;
  }
  ::chmod(layout.own_dir.c_str(), 0755);
  return refused ? 0 : 4;
}
}  // namespace

TEST_CASE("downloads_in_progress: a state file or folder that cannot be read is an error naming it", "[workdir]") {
  test::TempDir dir;
  auto layout = WorkdirLayout::prepare(dir.path());
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(layout.own_dir.c_str(), 0755);
  auto state = layout.own_dir / "aa.state.json";
  test::write_file(state, R"({"name":"film.mkv","size":1000})");
  ::chmod(state.c_str(), 0);
  if (::geteuid() != 0) {
    CHECK(unreadable_state_checks(layout, state) == 0);
    return;
  }
  // Root reads through any permission: the checks run in a child that became nobody.
  ::chown(layout.own_dir.c_str(), 65534, 65534);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    ::_exit(unreadable_state_checks(layout, state));
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
