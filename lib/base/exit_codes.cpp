// The exit-code table of every executable (see exit_codes.hpp).
#include "base/exit_codes.hpp"

namespace p2p {

namespace {
constexpr ExitCodeDoc kDocs[] = {
    {ExitCode::ok, "success (for p2p-seed and p2p-tracker: stopped by a signal)"},
    {ExitCode::internal, "internal error (a bug: please report)"},
    {ExitCode::usage, "usage: bad or missing arguments, or a bad --config file"},
    {ExitCode::input_file, "a file to read is missing, unreadable or a folder"},
    {ExitCode::bad_meta, "the meta is not JSON, has wrong types, inconsistent sizes or counts, an unsafe name, a wrong "
                         "Merkle root or info hash"},
    {ExitCode::source_mismatch, "p2p-seed: the source does not match the meta (the message names the first bad piece)"},
    {ExitCode::bind_failed, "cannot listen: port busy or not allowed"},
    {ExitCode::peers_failed, "no peer can supply the file: every peer refused for good, or none could be reached for "
                             "--give-up-after seconds"},
    {ExitCode::disk, "disk: workdir not creatable or writable, disk full, write error (rerun once fixed)"},
    {ExitCode::verify_failed, "the whole-file hash does not match although every piece did"},
    {ExitCode::tracker, "tracker: unreachable or refused, when it was the only way to get what was asked; for "
                         "p2p-seed ctl, the node: unreachable or refused the request (its reason is shown)"},
    {ExitCode::file_exists, "p2p-download: a file of the user's is in the way of the final name (never overwritten)"},
    {ExitCode::in_use, "p2p-download: another process is downloading the same name into the same workdir"},
    {ExitCode::interrupted, "p2p-download interrupted by SIGINT/SIGTERM: state saved, rerun to resume"},
};
}  // namespace

std::span<const ExitCodeDoc> exit_code_docs() { return kDocs; }

}  // namespace p2p
