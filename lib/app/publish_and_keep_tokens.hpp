// publish_and_keep_tokens: the one way a meta is published to trackers, used by
// p2p-seed --publish (seeder), a shared folder (folder_share) and POST /api/share
// (api_share). Each tracker that stores the meta answers an owner token (the right
// to withdraw it); it is kept in <meta>.owner-tokens.json beside the meta.
//
// One rule for private metas: a private meta is never published. It holds its swarm
// key, and a tracker refuses it anyway (403, docs/TRACKER.md "/publish"; docs/SECURITY.md
// row 29: "publish refused on both sides"). That is not an error: the meta is still
// served to its members; the caller is handed one notice saying so.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "format/meta.hpp"

namespace p2p {

// Publishes meta_json to one tracker: the owner token if this call stored it, nullopt
// if the tracker already had it; throws Error(tracker) on a refusal or failure.
// tracker_client::publish_meta by default; a unit test passes a fake.
using PublishToTracker = std::function<std::optional<std::string>(const std::string& tracker, const std::string& meta_json)>;

// Publishes meta (whose text is meta_json, the bytes sent) to every tracker in turn and
// saves each owner token in owner_token_file_for(meta_path). Returns what happened, one
// line per tracker, to report as notices (for a private meta: the single notice that it
// is never published, and no tracker is contacted). Throws Error(tracker) from the first
// tracker that fails (tokens from those before it are kept), Error(disk) if a token
// cannot be saved.
std::vector<std::string> publish_and_keep_tokens(const Meta& meta, const std::string& meta_json,
                                                 const std::filesystem::path& meta_path,
                                                 const std::vector<std::string>& trackers,
                                                 const PublishToTracker& publish = {});

}  // namespace p2p
